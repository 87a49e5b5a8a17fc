# The documents bucket: versioned, old versions expiring (private, encrypted and TLS only below).
resource "aws_s3_bucket" "documents" {
  bucket = "${local.prefix}-documents-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket_versioning" "documents" {
  bucket = aws_s3_bucket.documents.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "documents" {
  bucket     = aws_s3_bucket.documents.id
  depends_on = [aws_s3_bucket_versioning.documents]

  rule {
    id     = "expire-old-versions"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = 90
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

# The backups bucket: the backup service's off-host copies (npm run backup), each object expiring
# after backup_retention_days (the service also keeps BACKUP_KEEP).
resource "aws_s3_bucket" "backups" {
  bucket = "${local.prefix}-backups-${data.aws_caller_identity.current.account_id}"
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "expire-old-backups"
    status = "Enabled"
    filter {}

    expiration {
      days = var.backup_retention_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }
}

# Every bucket, the same hardening: public access blocked, ACLs off, encrypted at rest, TLS only.
# A new bucket is added here, so it cannot be left out of one of them.
locals {
  buckets = {
    documents = aws_s3_bucket.documents
    backups   = aws_s3_bucket.backups
  }
}

resource "aws_s3_bucket_public_access_block" "private" {
  for_each                = local.buckets
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "private" {
  for_each = local.buckets
  bucket   = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "private" {
  for_each = local.buckets
  bucket   = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each   = local.buckets
  bucket     = each.value.id
  policy     = data.aws_iam_policy_document.tls_only[each.key].json
  depends_on = [aws_s3_bucket_public_access_block.private]
}

# The same resources under their names before they were one block per kind: state moves, nothing is replaced.
moved {
  from = aws_s3_bucket_public_access_block.documents
  to   = aws_s3_bucket_public_access_block.private["documents"]
}

moved {
  from = aws_s3_bucket_ownership_controls.documents
  to   = aws_s3_bucket_ownership_controls.private["documents"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.documents
  to   = aws_s3_bucket_server_side_encryption_configuration.private["documents"]
}

moved {
  from = aws_s3_bucket_policy.documents
  to   = aws_s3_bucket_policy.tls_only["documents"]
}

moved {
  from = aws_s3_bucket_public_access_block.backups
  to   = aws_s3_bucket_public_access_block.private["backups"]
}

moved {
  from = aws_s3_bucket_ownership_controls.backups
  to   = aws_s3_bucket_ownership_controls.private["backups"]
}

moved {
  from = aws_s3_bucket_server_side_encryption_configuration.backups
  to   = aws_s3_bucket_server_side_encryption_configuration.private["backups"]
}

moved {
  from = aws_s3_bucket_policy.backups
  to   = aws_s3_bucket_policy.tls_only["backups"]
}

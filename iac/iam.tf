# The host's role: sending from the one SES identity, the documents and backups buckets, reading its own
# SSM parameters. The app, worker and backup containers sign with it (IMDSv2); no IAM user keys exist.
data "aws_iam_policy_document" "host_assume" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "host" {
  name               = "${local.prefix}-host"
  description        = "Dossier host: SES sending, documents and backups buckets, its SSM parameters"
  assume_role_policy = data.aws_iam_policy_document.host_assume.json
}

resource "aws_iam_instance_profile" "host" {
  name = "${local.prefix}-host"
  role = aws_iam_role.host.name
}

data "aws_iam_policy_document" "host" {
  statement {
    sid       = "SendMail"
    effect    = "Allow"
    actions   = ["ses:SendRawEmail", "ses:SendEmail"]
    resources = [aws_ses_domain_identity.mail.arn]

    condition {
      test     = "StringEquals"
      variable = "ses:FromAddress"
      values   = [var.mail_from]
    }
  }

  # The documents (the app and worker) and the backup service's off-host copies (write, read back, prune).
  statement {
    sid       = "Buckets"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [aws_s3_bucket.documents.arn, aws_s3_bucket.backups.arn]
  }

  statement {
    sid    = "Objects"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.documents.arn}/*", "${aws_s3_bucket.backups.arn}/*"]
  }

  statement {
    sid     = "OwnParameters"
    effect  = "Allow"
    actions = ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"]
    resources = [
      "arn:${data.aws_partition.current.partition}:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${local.ssm_path}",
      "arn:${data.aws_partition.current.partition}:ssm:${var.region}:${data.aws_caller_identity.current.account_id}:parameter${local.ssm_path}/*",
    ]
  }
}

resource "aws_iam_role_policy" "host" {
  name   = "${local.prefix}-host"
  role   = aws_iam_role.host.id
  policy = data.aws_iam_policy_document.host.json
}

# Shell access through SSM Session Manager instead of SSH (AWS-managed policy).
resource "aws_iam_role_policy_attachment" "host_ssm" {
  role       = aws_iam_role.host.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

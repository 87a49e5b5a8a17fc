# The host's role: sending from the one SES identity and reading its own SSM parameters.
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
  description        = "Dossier host: SES sending, its SSM parameters"
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

# Object storage: the app's S3 client (minio) takes static keys, so a user limited to the one bucket holds
# them; the key lands in SSM. Replace with the host role once the adapter reads instance credentials.
data "aws_iam_policy_document" "documents" {
  statement {
    sid       = "DocumentsBucket"
    effect    = "Allow"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [aws_s3_bucket.documents.arn]
  }

  statement {
    sid    = "DocumentsObjects"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["${aws_s3_bucket.documents.arn}/*"]
  }
}

resource "aws_iam_user" "documents" {
  name = "${local.prefix}-documents"
}

resource "aws_iam_user_policy" "documents" {
  name   = "${local.prefix}-documents"
  user   = aws_iam_user.documents.name
  policy = data.aws_iam_policy_document.documents.json
}

resource "aws_iam_access_key" "documents" {
  user = aws_iam_user.documents.name
}

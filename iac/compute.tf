# One EC2 host running stack/docker-compose.yml: app, worker, Meilisearch, Redis, monitoring and Caddy.
# PostgreSQL is RDS and object storage is S3, so the stack's postgres and minio services stay off.
data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

resource "aws_instance" "host" {
  ami                    = data.aws_ssm_parameter.al2023.value
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.public[0].id
  vpc_security_group_ids = [aws_security_group.host.id]
  iam_instance_profile   = aws_iam_instance_profile.host.name
  monitoring             = true

  # Online from the first second of boot; the Elastic IP replaces this address moments later.
  associate_public_ip_address = true

  # IMDSv2 only; two hops so containers can use the instance role. The host's firewall (user data,
  # DOCKER-USER) lets only the egress network of app, worker and backup reach the metadata service.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    delete_on_termination = true
  }

  # User data runs at first boot only (initial version); releases are deployed in place through SSM
  # (deploy.tf), so neither a changed template nor a newer AMI replaces the host and its volumes.
  user_data = templatefile("${path.module}/user-data.sh.tftpl", {
    app_repository       = var.app_repository
    app_ref              = var.app_ref
    compose_version      = var.compose_version
    region               = var.region
    ssm_path             = local.ssm_path
    domain               = var.domain
    acme_email           = var.acme_email
    db_host              = aws_db_instance.main.address
    db_name              = aws_db_instance.main.db_name
    db_user              = aws_db_instance.main.username
    bucket               = aws_s3_bucket.documents.bucket
    mail_from            = var.mail_from
    mail_to              = var.mail_to
    alert_email_to       = var.alert_email_to
    alert_smtp_username  = var.alert_smtp_username
    runbook_base_url     = var.runbook_base_url
    backups_bucket       = aws_s3_bucket.backups.bucket
    egress_subnet        = local.egress_subnet
    alert_smtp_smarthost = "email-smtp.${var.region}.amazonaws.com:587"
  })

  tags = { Name = "${local.prefix}-host" }

  lifecycle {
    ignore_changes = [user_data, ami]
  }

  depends_on = [aws_ssm_parameter.stack]
}

resource "aws_eip" "host" {
  domain   = "vpc"
  instance = aws_instance.host.id

  tags = { Name = "${local.prefix}-host" }
}

resource "aws_route53_record" "api" {
  count   = local.manage_dns ? 1 : 0
  zone_id = var.route53_zone_id
  name    = var.domain
  type    = "A"
  ttl     = 300
  records = [aws_eip.host.public_ip]
}

output "public_ip" {
  description = "Elastic IP of the host; point the domain's A record here when Route 53 is not managed."
  value       = aws_eip.host.public_ip
}

output "url" {
  description = "Public URL of the GraphQL endpoint."
  value       = "https://${var.domain}/graphql"
}

output "instance_id" {
  description = "EC2 instance id, for aws ssm start-session."
  value       = aws_instance.host.id
}

output "database_endpoint" {
  description = "RDS endpoint (host:port), reachable from the host only."
  value       = aws_db_instance.main.endpoint
}

output "documents_bucket" {
  description = "Name of the private S3 bucket holding uploaded documents (S3_BUCKET)."
  value       = aws_s3_bucket.documents.bucket
}

output "ses_identity_arn" {
  description = "ARN of the SES domain identity the host may send from."
  value       = aws_ses_domain_identity.mail.arn
}

output "ses_dns_records" {
  description = "DNS records SES needs (verification TXT, three DKIM CNAMEs, MAIL FROM MX and SPF); created automatically when route53_zone_id is set."
  value = {
    verification = { name = "_amazonses.${aws_ses_domain_identity.mail.domain}", type = "TXT", value = aws_ses_domain_identity.mail.verification_token }
    dkim = [for token in aws_ses_domain_dkim.mail.dkim_tokens : {
      name = "${token}._domainkey.${aws_ses_domain_identity.mail.domain}", type = "CNAME", value = "${token}.dkim.amazonses.com"
    }]
    mail_from_mx  = { name = aws_ses_domain_mail_from.mail.mail_from_domain, type = "MX", value = "10 feedback-smtp.${var.region}.amazonses.com" }
    mail_from_spf = { name = aws_ses_domain_mail_from.mail.mail_from_domain, type = "TXT", value = "v=spf1 include:amazonses.com ~all" }
  }
}

output "ssm_parameter_path" {
  description = "SSM path of the stack's secrets (one SecureString per stack/.env variable)."
  value       = local.ssm_path
}

# Secrets of the stack, as SSM SecureString parameters named after the stack/.env variable they fill.
# The host reads them at boot, so user data never carries a secret. The Terraform state holds them
# too: keep it in an encrypted, access-controlled backend.
locals {
  generated_secrets = toset(["ADMIN_TOKEN", "METRICS_TOKEN", "MEILI_MASTER_KEY", "REDIS_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "MINIO_ROOT_PASSWORD"])
  other_secrets     = toset(["POSTGRES_PASSWORD", "ADMIN_UI_PASSWORD_HASH", "ALERT_SMTP_PASSWORD", "ALERT_WEBHOOK_URL", "ALERT_DEADMAN_URL"])

  stack_secrets = merge(
    { for key, secret in random_password.stack : key => secret.result },
    {
      POSTGRES_PASSWORD      = random_password.db.result
      ADMIN_UI_PASSWORD_HASH = var.admin_ui_password_hash
      ALERT_SMTP_PASSWORD    = var.alert_smtp_password
      ALERT_WEBHOOK_URL      = var.alert_webhook_url
      ALERT_DEADMAN_URL      = var.alert_deadman_url
    },
  )
}

resource "random_password" "stack" {
  for_each = local.generated_secrets
  length   = 48
  special  = false # several end up inside URLs
}

resource "aws_ssm_parameter" "stack" {
  for_each    = setunion(local.generated_secrets, local.other_secrets)
  name        = "${local.ssm_path}/${each.key}"
  description = "Dossier stack secret ${each.key}"
  type        = "SecureString"
  value       = local.stack_secrets[each.key]
}

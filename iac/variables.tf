variable "region" {
  description = "AWS region for every resource (SES must be available there)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Short project name used as a prefix in resource names and the SSM path."
  type        = string
  default     = "dossier"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2 to 21 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name, e.g. production or staging; part of resource names."
  type        = string
  default     = "production"
}

variable "domain" {
  description = "Public host name of the API (Caddy obtains its certificate for it), e.g. api.example.com."
  type        = string
}

variable "mail_domain" {
  description = "Domain SES sends from (MAIL_FROM's domain); defaults to var.domain."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone to write the A, SES verification, DKIM and MAIL FROM records into; null to create them by hand from the outputs."
  type        = string
  default     = null
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into two public and two private /24 subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "instance_type" {
  description = "EC2 instance type of the host running the stack (app, worker, Meilisearch, Redis, monitoring)."
  type        = string
  default     = "t3.large"
}

variable "root_volume_size_gb" {
  description = "Size in GiB of the host's encrypted root volume (Docker volumes live there)."
  type        = number
  default     = 40
}

variable "app_repository" {
  description = "Git URL the host clones the Dossier repository from."
  type        = string
}

variable "app_ref" {
  description = "Git tag or commit the host checks out and builds; change it to deploy a new version."
  type        = string
}

variable "compose_version" {
  description = "Release of the Docker Compose plugin installed on the host."
  type        = string
  default     = "v2.39.2"
}

variable "db_instance_class" {
  description = "RDS instance class of the PostgreSQL database."
  type        = string
  default     = "db.t4g.small"
}

variable "db_engine_version" {
  description = "PostgreSQL major version on RDS."
  type        = string
  default     = "17"
}

variable "db_allocated_storage_gb" {
  description = "Initial RDS storage in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  description = "Upper bound in GiB for RDS storage autoscaling."
  type        = number
  default     = 100
}

variable "db_backup_retention_days" {
  description = "Days RDS keeps automated backups (point-in-time recovery window); at least 1."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "backup_retention_days" {
  description = "Days the backups bucket keeps each off-host backup copy before it expires."
  type        = number
  default     = 35

  validation {
    condition     = var.backup_retention_days >= 2
    error_message = "backup_retention_days must be at least 2."
  }
}

variable "db_multi_az" {
  description = "Run RDS with a standby in a second availability zone."
  type        = bool
  default     = false
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database until this is set to false."
  type        = bool
  default     = true
}

variable "mail_from" {
  description = "Sender address of notification emails (MAIL_FROM); must be on mail_domain."
  type        = string
}

variable "mail_to" {
  description = "Recipient of new-contact notifications (MAIL_TO)."
  type        = string
}

variable "acme_email" {
  description = "Contact address for Let's Encrypt certificates (Caddy)."
  type        = string
}

variable "admin_ui_password_hash" {
  description = "bcrypt hash (caddy hash-password) guarding Grafana, Prometheus and Alertmanager; stored in SSM."
  type        = string
  sensitive   = true
}

variable "alert_email_to" {
  description = "Address Alertmanager sends alert emails to."
  type        = string
}

variable "alert_smtp_username" {
  description = "SMTP user for alert emails (SES SMTP credentials)."
  type        = string
  default     = ""
}

variable "alert_smtp_password" {
  description = "SMTP password for alert emails; stored in SSM, never in user data."
  type        = string
  sensitive   = true
}

variable "alert_deadman_url" {
  description = "Dead-man heartbeat URL that receives the always-firing Watchdog alert every 5 minutes; stored in SSM."
  type        = string
  sensitive   = true
}

variable "runbook_base_url" {
  description = "Where docs/operations.md is published; each alert's runbook_url is this plus #<alert name>."
  type        = string
}

variable "alert_webhook_url" {
  description = "Webhook of the paging tool that receives critical alerts; stored in SSM."
  type        = string
  sensitive   = true
}

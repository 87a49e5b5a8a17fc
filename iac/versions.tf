terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  # The state holds generated secrets: keep it in an encrypted, versioned S3 bucket
  # (terraform init -backend-config=backend.hcl, see README.md).
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = var.name
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  prefix      = "${var.name}-${var.environment}"
  ssm_path    = "/${var.name}/${var.environment}"
  mail_domain = coalesce(var.mail_domain, var.domain)
  manage_dns  = var.route53_zone_id != null
}

# Releases are deployed in place: changing app_ref updates this association's parameter, and SSM runs
# stack/deploy.sh on the host (check out the tag, build its image, start app and worker, wait for
# /ready, roll back to the previous tag if it fails). The host, its volumes and certificate stay.
locals {
  # Compose's egress network (stack/docker-compose.yml): the only one allowed to reach IMDS.
  egress_subnet = "172.30.9.0/24"
}

resource "aws_ssm_document" "deploy" {
  name            = "${local.prefix}-deploy"
  document_type   = "Command"
  document_format = "YAML"

  content = yamlencode({
    schemaVersion = "2.2"
    description   = "Deploy a Dossier version in place (stack/deploy.sh), rolling back when /ready fails"
    parameters = {
      version = {
        type           = "String"
        description    = "Git tag to deploy"
        allowedPattern = "^[A-Za-z0-9._-]+$"
      }
    }
    mainSteps = [{
      action = "aws:runShellScript"
      name   = "deploy"
      inputs = {
        workingDirectory = "/opt/dossier"
        timeoutSeconds   = "1800"
        runCommand = [
          "set -eu",
          "git fetch --tags origin",
          "git checkout --detach '{{ version }}'",
          "DOSSIER_VERSION='{{ version }}' docker compose -f stack/docker-compose.yml --env-file stack/.env build app",
          "stack/deploy.sh '{{ version }}'",
        ]
      }
    }]
  })
}

resource "aws_ssm_association" "deploy" {
  name             = aws_ssm_document.deploy.name
  association_name = "${local.prefix}-deploy"
  parameters       = { version = var.app_ref }

  targets {
    key    = "InstanceIds"
    values = [aws_instance.host.id]
  }
}

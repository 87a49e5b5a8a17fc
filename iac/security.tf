# The host: HTTP and HTTPS (TCP, and UDP for HTTP/3) from anywhere; no SSH (use SSM Session Manager).
resource "aws_security_group" "host" {
  name        = "${local.prefix}-host"
  description = "Dossier host: web traffic in, anything out"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "host_http" {
  security_group_id = aws_security_group.host.id
  description       = "HTTP (ACME challenges, redirect to HTTPS)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "host_https" {
  security_group_id = aws_security_group.host.id
  description       = "HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "host_http3" {
  security_group_id = aws_security_group.host.id
  description       = "HTTP/3 (QUIC)"
  ip_protocol       = "udp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "host_all" {
  security_group_id = aws_security_group.host.id
  description       = "ACME, SES, S3, RDS, package and image downloads"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

# The database: PostgreSQL from the host only.
resource "aws_security_group" "db" {
  name        = "${local.prefix}-db"
  description = "Dossier PostgreSQL: reachable from the host only"
  vpc_id      = aws_vpc.main.id
}

resource "aws_vpc_security_group_ingress_rule" "db_from_host" {
  security_group_id            = aws_security_group.db.id
  description                  = "PostgreSQL from the Dossier host"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.host.id
}

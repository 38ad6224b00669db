//! Fields of the JSON sources (k8s_audit, aws_cloudtrail, okta, github, gcp_auditlog, json.*). Under construction.

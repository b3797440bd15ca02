output "lifecycle_topic" {
  description = "Topic the sidecars publish LB lifecycle messages to (`gcp.topic` in the sidecar config)."
  value       = google_pubsub_topic.lifecycle.id
}

output "functions_service_account" {
  description = "The account holding the portlb route role."
  value       = google_service_account.functions.email
}

output "route_role" {
  value = google_project_iam_custom_role.portlb_routes.id
}

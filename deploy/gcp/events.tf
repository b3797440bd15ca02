locals {
  # The Compute audit-log entries that mean an instance is going away: admin activity (delete,
  # stop, from any API version) and the preemption system event.
  instance_methods = [
    "v1.compute.instances.delete",
    "beta.compute.instances.delete",
    "v1.compute.instances.stop",
    "beta.compute.instances.stop",
    "compute.instances.preempted",
  ]
  instance_filter = join(" AND ", [
    "protoPayload.serviceName=\"compute.googleapis.com\"",
    "protoPayload.methodName=(${join(" OR ", [for m in local.instance_methods : "\"${m}\""])})",
    "(logName=\"projects/${var.project}/logs/cloudaudit.googleapis.com%2Factivity\" OR logName=\"projects/${var.project}/logs/cloudaudit.googleapis.com%2Fsystem_event\")",
  ])
}

resource "google_pubsub_topic" "instance_events" {
  name = "portlb-instance-events"
}

resource "google_pubsub_topic" "sweep" {
  name = "portlb-sweep"
}

resource "google_pubsub_topic" "lifecycle" {
  name = "portlb-lifecycle"
}

# Audit logs -> Pub/Sub: the robust path for system events (preemption) that no API caller sees.
resource "google_logging_project_sink" "instance_events" {
  name                   = "portlb-instance-events"
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.instance_events.id}"
  filter                 = local.instance_filter
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "sink_publishes" {
  topic  = google_pubsub_topic.instance_events.id
  role   = "roles/pubsub.publisher"
  member = google_logging_project_sink.instance_events.writer_identity
}

resource "google_cloud_scheduler_job" "sweep" {
  name        = "portlb-sweep"
  description = "portlb: repair route drift and remove routes whose next hop is gone."
  schedule    = var.sweep_schedule
  region      = var.region
  pubsub_target {
    topic_name = google_pubsub_topic.sweep.id
    data       = base64encode(jsonencode({ kind = "portlb.sweep", version = 1 }))
  }
}

# Least privilege: the LB pods only publish their lifecycle; the function writes the routes.
resource "google_pubsub_topic_iam_member" "sidecar_publishes" {
  count  = var.sidecar_service_account != "" && var.sidecar_publish == "pubsub" ? 1 : 0
  topic  = google_pubsub_topic.lifecycle.id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${var.sidecar_service_account}"
}

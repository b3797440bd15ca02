locals {
  functions = {
    instance-event = { entry_point = "instanceEvent", topic = google_pubsub_topic.instance_events.id }
    sweep          = { entry_point = "sweep", topic = google_pubsub_topic.sweep.id }
    lifecycle      = { entry_point = "lifecycle", topic = google_pubsub_topic.lifecycle.id }
  }
}

resource "google_cloudfunctions2_function" "portlb" {
  for_each = local.functions
  name     = "portlb-${each.key}"
  location = var.region

  build_config {
    runtime     = var.runtime
    entry_point = each.value.entry_point
    source {
      storage_source {
        bucket = var.source_bucket
        object = var.source_object
      }
    }
  }

  service_config {
    service_account_email = google_service_account.functions.email
    ingress_settings      = "ALLOW_INTERNAL_ONLY"
    max_instance_count    = 1
    timeout_seconds       = 120
    environment_variables = {
      PORTLB_PROJECT  = var.project
      PORTLB_NETWORK  = var.network
      PORTLB_OWNER    = var.owner
      PORTLB_VIPS     = join(",", var.vips)
      PORTLB_PRIORITY = tostring(var.priority)
    }
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = each.value.topic
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.trigger.email
  }
}

resource "google_cloud_run_service_iam_member" "trigger_invokes" {
  for_each = google_cloudfunctions2_function.portlb
  location = var.region
  service  = each.value.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.trigger.email}"
}

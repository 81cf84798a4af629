# Reco on Kubernetes with real services: every app is its own Deployment and scales apart
# (the embedded single-process mode is for laptops only).

locals {
  labels = { "app.kubernetes.io/part-of" = "reco" }

  # Settings every backend process reads (apps/api/src/env.ts, apps/stream-worker/src/env.ts);
  # the secret ones come from kubernetes_secret.connections.
  backend_env = {
    KAFKA_BROKERS = var.kafka_brokers
    TOPIC_PREFIX  = var.topic_prefix
    DATA_DIR      = "/data"
    LOG_LEVEL     = "info"
    S3_ENDPOINT   = var.s3_endpoint
    S3_BUCKET     = var.s3_bucket
    S3_REGION     = var.s3_region
    S3_PREFIX     = var.s3_prefix
  }
  secret_env = {
    DATABASE_URL         = var.database_url
    REDIS_URL            = var.redis_url
    S3_ACCESS_KEY_ID     = var.s3_access_key_id
    S3_SECRET_ACCESS_KEY = var.s3_secret_access_key
  }

  apps = {
    api = {
      image    = var.images.api
      port     = 4000
      replicas = var.api_replicas
      env      = merge(local.backend_env, { HOST = "0.0.0.0", PORT = "4000" })
      secrets  = true
      data     = true
      # The api has both: /healthz (process alive) and /readyz (database, model or fallback loaded).
      liveness  = "/healthz"
      readiness = "/readyz"
      requests  = { cpu = "500m", memory = "768Mi" }
      limits    = { cpu = "2", memory = "2Gi" }
    }
    stream-worker = {
      image    = var.images.stream_worker
      port     = 9464
      replicas = var.worker_replicas
      env      = merge(local.backend_env, { WORKER_PORT = "9464" })
      secrets  = true
      data     = true
      # The worker serves only /healthz (503 while its consumer is down) besides /metrics.
      liveness  = "/healthz"
      readiness = "/healthz"
      requests  = { cpu = "250m", memory = "512Mi" }
      limits    = { cpu = "1", memory = "1536Mi" }
    }
    web = {
      image    = var.images.web
      port     = 3000
      replicas = var.web_replicas
      env      = { API_URL = "http://reco-api:4000", PORT = "3000" }
      secrets  = false
      data     = false
      # The dashboard has no health route of its own: its sign-in page renders without the api.
      liveness  = "/signin"
      readiness = "/signin"
      requests  = { cpu = "100m", memory = "256Mi" }
      limits    = { cpu = "1", memory = "768Mi" }
    }
  }
}

resource "kubernetes_namespace" "reco" {
  metadata {
    name   = var.namespace
    labels = local.labels
  }
}

resource "kubernetes_secret" "connections" {
  metadata {
    name      = "reco-connections"
    namespace = kubernetes_namespace.reco.metadata[0].name
  }
  data = local.secret_env
}

resource "kubernetes_deployment" "app" {
  for_each = local.apps

  metadata {
    name      = "reco-${each.key}"
    namespace = kubernetes_namespace.reco.metadata[0].name
    labels    = merge(local.labels, { "app.kubernetes.io/name" = each.key })
  }

  lifecycle {
    precondition {
      condition     = each.key != "stream-worker" || var.worker_replicas <= var.topic_partitions
      error_message = "worker_replicas must not exceed topic_partitions: a consumer without a partition idles."
    }
  }

  spec {
    replicas = each.value.replicas
    selector {
      match_labels = { "app.kubernetes.io/name" = each.key }
    }
    template {
      metadata {
        labels = merge(local.labels, { "app.kubernetes.io/name" = each.key })
        annotations = {
          "prometheus.io/scrape" = each.key == "web" ? "false" : "true"
          "prometheus.io/port"   = tostring(each.value.port)
          "prometheus.io/path"   = "/metrics"
        }
      }
      spec {
        # Gives in-flight requests and open micro-batches time to drain and commit.
        termination_grace_period_seconds = 45
        security_context {
          run_as_non_root = true
          run_as_user     = 10001
          fs_group        = 10001
        }
        container {
          name  = each.key
          image = each.value.image
          port {
            container_port = each.value.port
          }
          dynamic "env" {
            for_each = each.value.env
            content {
              name  = env.key
              value = env.value
            }
          }
          dynamic "env_from" {
            for_each = each.value.secrets ? [kubernetes_secret.connections.metadata[0].name] : []
            content {
              secret_ref {
                name = env_from.value
              }
            }
          }
          readiness_probe {
            http_get {
              path = each.value.readiness
              port = each.value.port
            }
            period_seconds = 5
          }
          liveness_probe {
            http_get {
              path = each.value.liveness
              port = each.value.port
            }
            initial_delay_seconds = 30
            period_seconds        = 10
          }
          resources {
            requests {
              cpu    = each.value.requests.cpu
              memory = each.value.requests.memory
            }
            limits {
              cpu    = each.value.limits.cpu
              memory = each.value.limits.memory
            }
          }
          dynamic "volume_mount" {
            for_each = each.value.data ? ["data"] : []
            content {
              name       = volume_mount.value
              mount_path = "/data"
            }
          }
        }
        dynamic "volume" {
          for_each = each.value.data ? ["data"] : []
          content {
            name = volume.value
            persistent_volume_claim {
              claim_name = var.shared_volume_claim
            }
          }
        }
      }
    }
  }
}

resource "kubernetes_service" "app" {
  for_each = { for name, app in local.apps : name => app if name != "stream-worker" }

  metadata {
    name      = "reco-${each.key}"
    namespace = kubernetes_namespace.reco.metadata[0].name
    labels    = local.labels
  }
  spec {
    selector = { "app.kubernetes.io/name" = each.key }
    port {
      port        = each.value.port
      target_port = each.value.port
    }
  }
}

# CPU and request rate: the replica count is the larger of the two answers. The request rate is
# a per-pod custom metric served by prometheus-adapter (rule in deploy/prometheus/adapter.yaml).
resource "kubernetes_horizontal_pod_autoscaler" "api" {
  metadata {
    name      = "reco-api"
    namespace = kubernetes_namespace.reco.metadata[0].name
  }
  spec {
    min_replicas = var.api_replicas
    max_replicas = var.api_max_replicas
    scale_target_ref {
      api_version = "apps/v1"
      kind        = "Deployment"
      name        = kubernetes_deployment.app["api"].metadata[0].name
    }
    metric {
      type = "Resource"
      resource {
        name = "cpu"
        target {
          type                = "Utilization"
          average_utilization = var.api_target_cpu_percent
        }
      }
    }
    metric {
      type = "Pods"
      pods {
        metric {
          name = "reco_http_requests_per_second"
        }
        target {
          type          = "AverageValue"
          average_value = var.api_target_requests_per_second
        }
      }
    }
  }
}

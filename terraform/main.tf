# Reco on Kubernetes with real services: every app is its own Deployment and scales apart
# (the embedded single-process mode is for laptops only).

locals {
  labels = { "app.kubernetes.io/part-of" = "reco" }
  env_common = {
    KAFKA_BROKERS = var.kafka_brokers
    TOPIC_PREFIX  = var.topic_prefix
    DATA_DIR      = "/data"
    LOG_LEVEL     = "info"
  }
  apps = {
    api = {
      command  = ["npx", "tsx", "apps/api/src/main.ts"]
      port     = 4000
      replicas = var.api_replicas
    }
    stream-worker = {
      command  = ["npx", "tsx", "apps/stream-worker/src/main.ts"]
      port     = 9464
      replicas = var.worker_replicas
    }
    web = {
      command  = ["npx", "next", "start", "apps/web", "--port", "3000", "--hostname", "0.0.0.0"]
      port     = 3000
      replicas = 2
    }
  }
}

resource "kubernetes_namespace_v1" "reco" {
  metadata {
    name   = var.namespace
    labels = local.labels
  }
}

resource "kubernetes_secret_v1" "connections" {
  metadata {
    name      = "reco-connections"
    namespace = kubernetes_namespace_v1.reco.metadata[0].name
  }
  data = {
    DATABASE_URL = var.database_url
    REDIS_URL    = var.redis_url
  }
}

resource "kubernetes_deployment_v1" "app" {
  for_each = local.apps

  metadata {
    name      = "reco-${each.key}"
    namespace = kubernetes_namespace_v1.reco.metadata[0].name
    labels    = merge(local.labels, { "app.kubernetes.io/name" = each.key })
  }

  spec {
    replicas = each.value.replicas
    selector {
      match_labels = { "app.kubernetes.io/name" = each.key }
    }
    template {
      metadata {
        labels = merge(local.labels, { "app.kubernetes.io/name" = each.key })
      }
      spec {
        # Gives in-flight requests and open micro-batches time to drain and commit.
        termination_grace_period_seconds = 45
        container {
          name    = each.key
          image   = var.image
          command = each.value.command
          port {
            container_port = each.value.port
          }
          dynamic "env" {
            for_each = merge(local.env_common, each.key == "web" ? { API_URL = "http://reco-api:4000" } : {}, { PORT = tostring(each.value.port), HOST = "0.0.0.0" })
            content {
              name  = env.key
              value = env.value
            }
          }
          env_from {
            secret_ref {
              name = kubernetes_secret_v1.connections.metadata[0].name
            }
          }
          readiness_probe {
            http_get {
              path = each.key == "web" ? "/" : "/readyz"
              port = each.value.port
            }
            period_seconds = 5
          }
          liveness_probe {
            http_get {
              path = each.key == "web" ? "/" : "/healthz"
              port = each.value.port
            }
            initial_delay_seconds = 20
            period_seconds        = 10
          }
          resources {
            requests = { cpu = "250m", memory = "512Mi" }
            limits   = { memory = each.key == "api" ? "2Gi" : "1Gi" }
          }
          volume_mount {
            name       = "data"
            mount_path = "/data"
          }
        }
        volume {
          name = "data"
          persistent_volume_claim {
            claim_name = var.shared_volume_claim
          }
        }
      }
    }
  }
}

resource "kubernetes_service_v1" "app" {
  for_each = { for name, app in local.apps : name => app if name != "stream-worker" }

  metadata {
    name      = "reco-${each.key}"
    namespace = kubernetes_namespace_v1.reco.metadata[0].name
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

resource "kubernetes_horizontal_pod_autoscaler_v2" "api" {
  metadata {
    name      = "reco-api"
    namespace = kubernetes_namespace_v1.reco.metadata[0].name
  }
  spec {
    min_replicas = var.api_replicas
    max_replicas = var.api_max_replicas
    scale_target_ref {
      api_version = "apps/v1"
      kind        = "Deployment"
      name        = kubernetes_deployment_v1.app["api"].metadata[0].name
    }
    metric {
      type = "Resource"
      resource {
        name = "cpu"
        target {
          type                = "Utilization"
          average_utilization = 70
        }
      }
    }
  }
}

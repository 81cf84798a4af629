output "namespace" {
  value = kubernetes_namespace_v1.reco.metadata[0].name
}

output "api_service" {
  description = "In-cluster address of the serving api."
  value       = "http://reco-api.${var.namespace}.svc:4000"
}

output "dashboard_service" {
  value = "http://reco-web.${var.namespace}.svc:3000"
}

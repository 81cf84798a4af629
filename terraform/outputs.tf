output "namespace" {
  value = kubernetes_namespace.reco.metadata[0].name
}

output "api_service" {
  description = "In-cluster address of the serving api."
  value       = "http://reco-api.${var.namespace}.svc:4000"
}

output "dashboard_service" {
  value = "http://reco-web.${var.namespace}.svc:3000"
}

# Read by deploy/test/env-coverage.test.ts through `tofu console`: what each container is given.
output "container_env" {
  description = "Variable names each container receives (plain and from the secret)."
  value = {
    for name, app in local.apps : name => sort(concat(keys(app.env), app.secrets ? keys(local.secret_env) : []))
  }
}

output "lease_table_name" {
  value = aws_dynamodb_table.lease.name
}

output "lease_table_arn" {
  value = aws_dynamodb_table.lease.arn
}

output "lease_resource_name" {
  value = local.resource_name
}

output "events_queue_url" {
  value = aws_sqs_queue.events.url
}

output "task_role_arn" {
  value = aws_iam_role.task.arn
}

output "task_definition_arn" {
  value = aws_ecs_task_definition.operator.arn
}

output "service_name" {
  value = aws_ecs_service.operator.name
}

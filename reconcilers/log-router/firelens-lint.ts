import type { PatchIssue } from "../task-definition/patch-issue.ts";
import type { TaskDefinitionJson } from "../task-definition/task-definition.ts";

/**
 * Checks of a patched family as a whole that FireLens routing needs: one router, used, on a launch type that can read
 * its config; and the execution role that secretOptions and awslogs-create-group need. The engine runs them for every
 * family it patches, a family only a SidecarVolume patches included.
 */
export function lintFirelensFamily(td: TaskDefinitionJson): PatchIssue[] {
  const issues: PatchIssue[] = [];
  const routers = td.containerDefinitions.filter((c) => c.firelensConfiguration !== undefined);
  const users = td.containerDefinitions.filter((c) => c.logConfiguration?.logDriver === "awsfirelens");
  if (routers.length > 1) {
    issues.push({
      path: ["family"],
      message: `family ${td.family} would have ${routers.length} FireLens routers (${routers.map((r) => r.name).join(", ")}); ECS allows one`,
      severity: "error",
    });
  }
  if (users.length > 0 && routers.length === 0) {
    issues.push({
      path: ["family"],
      message: `containers ${users.map((c) => c.name).join(", ")} of family ${td.family} log to awsfirelens but the family has no FireLens router`,
      severity: "error",
    });
  }
  if (routers.length > 0 && users.length === 0) {
    issues.push({
      path: ["family"],
      message: `the FireLens router ${routers[0]!.name} of family ${td.family} is used by no container (no container logs to awsfirelens)`,
      severity: "error",
    });
  }
  const fargate = td.requiresCompatibilities?.includes("FARGATE") === true;
  for (const r of routers) {
    if (fargate && r.firelensConfiguration?.options?.["config-file-type"] === "s3") {
      issues.push({
        path: ["router", "configFile", "type"],
        message:
          "Fargate reads a FireLens config file only from the router image (config-file-type file); bake the " +
          "file `render` prints into a custom router image",
        severity: "error",
      });
    }
  }
  const needsRole = td.containerDefinitions.some(
    (c) =>
      (c.logConfiguration?.secretOptions?.length ?? 0) > 0 ||
      c.logConfiguration?.options?.["awslogs-create-group"] === "true",
  );
  if (needsRole && (td.executionRoleArn === undefined || td.executionRoleArn === "")) {
    issues.push({
      path: ["family"],
      message:
        `family ${td.family} has no executionRoleArn, but ECS needs a task execution role to read secretOptions ` +
        "(secretsmanager:GetSecretValue) and to create log groups; the task will fail to start without one",
      severity: "warning",
    });
  }
  return issues;
}

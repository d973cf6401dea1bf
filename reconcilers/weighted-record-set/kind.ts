import { Type, type Static } from "@sinclair/typebox";
import { defineKind, type SpecIssue } from "../../controllers/spec/document.ts";

/** A hosted zone id as Route 53 prints it (upper-case letters and digits), with or without `/hostedzone/`. */
export const ZONE_ID_PATTERN = "^(/hostedzone/)?[A-Z0-9]{6,32}$";
const DNS_NAME_PATTERN =
  "^(\\*\\.)?([a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?\\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.?$";
const ZONE_PATTERN = `(${ZONE_ID_PATTERN})|(${DNS_NAME_PATTERN})`;

/** Route 53 accepts weights 0 to 255. */
export const MAX_WEIGHT = 255;
/** A lifecycle hook's heartbeat timeout is at most 7,200 seconds. */
const MAX_HEARTBEAT_SECONDS = 7200;
/** Targets come and go with scaling: a long TTL keeps dead addresses in resolvers, so a day is the ceiling. */
export const MAX_TTL = 86_400;

const NAME_LIMITS = { minLength: 1, maxLength: 255 };

export const WeightedRecordSetSpecSchema = Type.Object(
  {
    hostedZone: Type.String({
      pattern: ZONE_PATTERN,
      description:
        "The hosted zone: its name (private zones are preferred over public ones; two zones of that name in one class is an error) or its id, such as Z0123456789ABC.",
      errorHint: "a lower-case zone name such as logs.internal, or a zone id such as Z0123456789ABC",
    }),
    name: Type.String({
      pattern: DNS_NAME_PATTERN,
      maxLength: 250,
      description: "The record name, inside the hosted zone, such as fluentd.logs.internal.",
      errorHint: "a lower-case DNS name such as fluentd.logs.internal",
    }),
    type: Type.Literal("A", { description: "The record type. Targets are private IPv4 addresses, so `A`." }),
    ttl: Type.Integer({
      minimum: 0,
      maximum: MAX_TTL,
      description: `Seconds resolvers may cache an answer, 0 to ${MAX_TTL}.`,
    }),
    weight: Type.Integer({
      minimum: 0,
      maximum: MAX_WEIGHT,
      description: `The weight of each target's record, 0 to ${MAX_WEIGHT} (Route 53's range).`,
    }),
    targets: Type.Object(
      {
        autoScalingGroup: Type.Optional(
          Type.String({
            ...NAME_LIMITS,
            description:
              "An Auto Scaling group: one record per InService instance, holding its private IPv4; set identifier = instance id.",
          }),
        ),
        ecsTasks: Type.Optional(
          Type.Object(
            {
              cluster: Type.String({ ...NAME_LIMITS, description: "The ECS cluster." }),
              service: Type.Optional(
                Type.String({ ...NAME_LIMITS, description: "The ECS service whose tasks to follow." }),
              ),
              family: Type.Optional(
                Type.String({
                  ...NAME_LIMITS,
                  description: "Or: the task definition family whose tasks to follow.",
                }),
              ),
            },
            {
              additionalProperties: false,
              description:
                "ECS tasks: one record per RUNNING task, holding its address; set identifier = task id.",
            },
          ),
        ),
      },
      {
        additionalProperties: false,
        description: "Where the addresses come from: exactly one of the fields.",
      },
    ),
    drain: Type.Optional(
      Type.Object(
        {
          lifecycleHook: Type.String({
            ...NAME_LIMITS,
            description: "The group's EC2_INSTANCE_TERMINATING lifecycle hook that holds leaving instances.",
          }),
          seconds: Type.Integer({
            minimum: 0,
            maximum: 3600,
            description:
              "Extra seconds to wait after the removal is INSYNC and its TTL has passed, 0 to 3600.",
          }),
        },
        {
          additionalProperties: false,
          description:
            "On scale-in, remove the instance's record first, wait until Route 53 reports the removal INSYNC on every name server (GetChange, at most 5 minutes, else the drain fails and is retried), then wait TTL + seconds, then complete the lifecycle action (CONTINUE). Under `run` the wait goes on beside the work queue (the records keep following the group meanwhile), and a restarted operator resumes it from what AWS shows: the record already gone, it waits the full TTL + seconds again. Auto Scaling groups only.",
        },
      ),
    ),
    prune: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          "When true, removing this spec (or changing its name) deletes the records this operator wrote for it. The marker is written into the registry record at each of its names (the `_elo-` TXT record that lists the records it owns) when it is applied, since after the removal there is no spec to read it from. Without it, the records are left in the zone, no longer managed.",
      }),
    ),
  },
  { additionalProperties: false },
);
export type WeightedRecordSetSpec = Static<typeof WeightedRecordSetSpecSchema>;

/** Lower case, no trailing dot: how names are compared. */
export function normaliseDnsName(name: string): string {
  return name.replace(/\.$/, "").toLowerCase();
}

export function isZoneId(hostedZone: string): boolean {
  return new RegExp(ZONE_ID_PATTERN).test(hostedZone);
}

function check(spec: WeightedRecordSetSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const t = spec.targets;
  const given = [t.autoScalingGroup, t.ecsTasks].filter((x) => x !== undefined).length;
  if (given !== 1) {
    issues.push({
      path: ["targets"],
      message: "targets: give exactly one of autoScalingGroup or ecsTasks",
    });
  }
  if (t.ecsTasks !== undefined && (t.ecsTasks.service === undefined) === (t.ecsTasks.family === undefined)) {
    issues.push({
      path: ["targets", "ecsTasks"],
      message: "targets.ecsTasks: give exactly one of service or family",
    });
  }
  if (spec.drain !== undefined && t.autoScalingGroup === undefined) {
    issues.push({
      path: ["drain"],
      message: "drain: lifecycle hooks belong to Auto Scaling groups; use it with targets.autoScalingGroup",
    });
  }
  if (spec.drain !== undefined && spec.ttl + spec.drain.seconds > MAX_HEARTBEAT_SECONDS) {
    issues.push({
      path: ["drain", "seconds"],
      message: `drain: ttl + seconds is ${spec.ttl + spec.drain.seconds}, longer than a lifecycle hook can hold an instance (${MAX_HEARTBEAT_SECONDS} s)`,
    });
  }
  if (!isZoneId(spec.hostedZone)) {
    const zone = normaliseDnsName(spec.hostedZone);
    const name = normaliseDnsName(spec.name);
    if (name !== zone && !name.endsWith(`.${zone}`)) {
      issues.push({ path: ["name"], message: `name: ${name} is not inside the hosted zone ${zone}` });
    }
  }
  return issues;
}

export const weightedRecordSetKind = defineKind({
  kind: "WeightedRecordSet",
  description:
    "Route 53 weighted records, one per Auto Scaling instance or ECS task, changed only where this operator owns them.",
  specSchema: WeightedRecordSetSpecSchema,
  check,
  claims: (spec) => [
    {
      key: `route53:${isZoneId(spec.hostedZone) ? spec.hostedZone.replace("/hostedzone/", "") : normaliseDnsName(spec.hostedZone)}/${normaliseDnsName(spec.name)}/${spec.type}`,
      path: ["name"],
    },
  ],
});

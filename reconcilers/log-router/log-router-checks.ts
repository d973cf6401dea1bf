import type { SpecIssue } from "../../controllers/spec/document.ts";
import { isSecretArn, plaintextSecretIssues } from "../task-definition/spec-safety.ts";
import {
  FIRELENS_OPTIONS,
  isPropertyOf,
  isSecretPropertyOf,
  nearestProperty,
} from "./fluent-bit-output-properties.ts";
import { initIssues } from "./init-config.ts";
import {
  configFileReasons,
  FIRELENS_KINDS,
  OUTPUT_KINDS,
  routerName,
  type LogRouterSpec,
} from "./log-router-kind.ts";
import {
  derivedProperties,
  optionProperties,
  routerOutputs,
  type RouterOutput,
} from "./log-router-outputs.ts";
import { parseS3ObjectArn } from "../task-definition/s3-object-arn.ts";

type Path = (string | number)[];

/** The semantic checks of a LogRouter spec, beyond its schema. Pure; messages never repeat a secret's value. */
export function checkLogRouter(spec: LogRouterSpec): SpecIssue[] {
  const issues: SpecIssue[] = plaintextSecretIssues(spec);
  issues.push(...outputChoiceIssues(spec));
  const outputs = routerOutputs(spec);
  for (const o of outputs) issues.push(...propertyIssues(o), ...secretIssues(o));
  issues.push(...sameMatchIssues(spec, outputs));
  issues.push(...containerIssues(spec));
  issues.push(...configFileIssues(spec));
  issues.push(...initIssues(spec));
  issues.push(...bufferIssues(spec));
  // One message a place: a credential given as an option is found both as a secret-named field and as an option.
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = JSON.stringify(i.path);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function outputChoiceIssues(spec: LogRouterSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const chosen = OUTPUT_KINDS.filter((k) => spec.output[k] !== undefined);
  if (chosen.length !== 1) {
    issues.push({
      path: ["output"],
      message:
        chosen.length === 0
          ? `output needs exactly one of ${OUTPUT_KINDS.join(", ")}`
          : `output has ${chosen.join(" and ")}: choose exactly one`,
    });
  }
  (spec.additionalOutputs ?? []).forEach((a, i) => {
    const kinds = FIRELENS_KINDS.filter((k) => a[k] !== undefined);
    if (kinds.length !== 1) {
      issues.push({
        path: ["additionalOutputs", i],
        message:
          kinds.length === 0
            ? `an additional output needs exactly one of ${FIRELENS_KINDS.join(", ")}`
            : `additional output has ${kinds.join(" and ")}: choose exactly one`,
      });
    }
  });
  if (spec.output.awslogs !== undefined && (spec.additionalOutputs ?? []).length > 0) {
    issues.push({
      path: ["additionalOutputs"],
      message:
        "additional outputs go through the FireLens router, which the awslogs output removes; clear them " +
        "(additionalOutputs: []) where output is awslogs",
    });
  }
  return issues;
}

/** Where an output's own object is in the spec, for messages: `output.datadog`, `additionalOutputs[0].s3`. */
function label(o: RouterOutput): string {
  return o.index === 0 ? `output.${o.kind}` : `additionalOutputs[${o.index - 1}].${o.kind}`;
}

function pluginName(o: RouterOutput): string {
  return `Fluent Bit's ${o.plugin.plugin} output (${o.plugin.source})`;
}

/** The keys the operator writes for an output, lower case: `options` may not set them again. */
function ownedKeys(o: RouterOutput): Set<string> {
  const keys = derivedProperties(o, "family", () => "region").map(([k]) => k.toLowerCase());
  return new Set([...keys, "name", "match", "match_regex", "storage.total_limit_size"]);
}

function propertyIssues(o: RouterOutput): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const owned = ownedKeys(o);
  for (const [key] of optionProperties(o)) {
    const path: Path = [...o.path, o.kind, "options", key];
    const k = key.toLowerCase();
    if ((FIRELENS_OPTIONS as readonly string[]).includes(k)) {
      if (o.index !== 0) {
        issues.push({
          path,
          message: `"${key}" is an option of FireLens itself, read only on the first output (output)`,
        });
      }
      continue;
    }
    if (!isPropertyOf(o.plugin, key)) {
      const near = nearestProperty(o.plugin, key);
      issues.push({
        path,
        message:
          `unknown property "${key}" of ${pluginName(o)}: Fluent Bit would refuse the router's config and the ` +
          `task would not start${near !== undefined ? `; did you mean "${near}"?` : ""}`,
      });
    } else if (isSecretPropertyOf(o.plugin, key)) {
      issues.push({
        path,
        message:
          `"${key}" holds a credential: give it by ARN (` +
          (o.kind === "datadog" && k === "apikey"
            ? `${label(o)}.apiKeySecretArn`
            : o.index === 0
              ? "secretOptions"
              : `additionalOutputs[${o.index - 1}].secretOptions`) +
          "), not as an option; the value is not shown here",
      });
    } else if (owned.has(k)) {
      issues.push({
        path,
        message:
          k === "storage.total_limit_size"
            ? `"${key}" is set by router.buffer.totalLimitSize for every output`
            : `"${key}" is set by the operator from ${label(o)}'s fields; change the field instead`,
      });
    }
  }
  return issues;
}

function secretIssues(o: RouterOutput): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  const owned = ownedKeys(o);
  const options = new Set(optionProperties(o).map(([k]) => k.toLowerCase()));
  for (const s of o.secrets) {
    const valuePath = [...s.path.slice(0, -1), s.path.at(-1) === "name" ? "valueFrom" : s.path.at(-1)!];
    if (!isSecretArn(s.valueFrom)) {
      issues.push({
        path: valuePath,
        message:
          s.name === "apikey" && o.kind === "datadog" && s.path.at(-1) === "apiKeySecretArn"
            ? "apiKeySecretArn must be a Secrets Manager secret ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:" +
              "NAME) or an SSM parameter ARN; the value is not shown here"
            : "valueFrom must be a Secrets Manager secret or SSM parameter ARN; the value is not shown here",
      });
    }
    const k = s.name.toLowerCase();
    if (seen.has(k)) {
      issues.push({ path: s.path, message: `secret option "${s.name}" is given twice` });
    } else if (!isPropertyOf(o.plugin, s.name)) {
      const near = nearestProperty(o.plugin, s.name);
      issues.push({
        path: s.path,
        message:
          `secret option "${s.name}" is no property of ${pluginName(o)}: FireLens passes every secret option to ` +
          "the output as a property, and Fluent Bit would refuse it and stop the router. An application's own " +
          "secret belongs in its container's `secrets`, which the LogRouter leaves alone" +
          (near !== undefined ? `; or did you mean "${near}"?` : ""),
      });
    } else if (owned.has(k) || (options.has(k) && !isSecretPropertyOf(o.plugin, k))) {
      issues.push({
        path: s.path,
        message: `secret option "${s.name}" is also set by ${label(o)}; give it once`,
      });
    }
    seen.add(k);
  }
  return issues;
}

/**
 * Two outputs of one plugin taking the same containers' logs would deliver every record twice to the same kind of
 * destination: a copy-paste slip far more often than a wish, so it is refused.
 */
function sameMatchIssues(spec: LogRouterSpec, outputs: readonly RouterOutput[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const firstContainers = spec.containers !== undefined ? [...spec.containers].sort().join(",") : "*";
  const seen = new Map<string, RouterOutput>();
  for (const o of outputs) {
    const match = o.containers !== undefined ? [...o.containers].sort().join(",") : firstContainers;
    const key = `${o.plugin.plugin} ${match}`;
    const other = seen.get(key);
    if (other !== undefined) {
      issues.push({
        path: [...o.path, o.kind],
        message:
          `${label(o)} takes the same containers' logs (${match === "*" ? "all routed" : match}) as ` +
          `${label(other)}, both through Fluent Bit's ${o.plugin.plugin} output: every record would be sent twice; ` +
          "merge them, or give each its own containers",
      });
    } else {
      seen.set(key, o);
    }
  }
  return issues;
}

function containerIssues(spec: LogRouterSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const router = routerName(spec);
  const seen = new Set<string>();
  (spec.containers ?? []).forEach((c, i) => {
    if (c === router) {
      issues.push({
        path: ["containers", i],
        message: `"${c}" is the router itself; a router does not route its own logs through FireLens`,
      });
    }
    if (seen.has(c)) issues.push({ path: ["containers", i], message: `container "${c}" is listed twice` });
    seen.add(c);
  });
  (spec.additionalOutputs ?? []).forEach((a, i) =>
    (a.containers ?? []).forEach((c, j) => {
      if (c === router || (spec.containers !== undefined && !spec.containers.includes(c))) {
        issues.push({
          path: ["additionalOutputs", i, "containers", j],
          message:
            `"${c}" is not one of the routed containers (${(spec.containers ?? []).join(", ") || "all but the router"}): ` +
            "only their logs reach the router",
        });
      }
    }),
  );
  return issues;
}

function configFileIssues(spec: LogRouterSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const reasons = configFileReasons(spec);
  if (spec.output.awslogs !== undefined) {
    // Without a router these would silently not happen; buffering and Grace simply have nothing to apply to.
    for (const what of reasons.filter((r) => r === "multiline" || r === "throttle")) {
      issues.push({
        path: [what],
        message: `${what} needs FireLens; the awslogs output sends logs without a router`,
      });
    }
  } else if (reasons.length > 0 && spec.router.configFile === undefined) {
    issues.push({
      path: reasons[0]!.split("."),
      message:
        `${reasons.join(", ")} need${reasons.length === 1 ? "s" : ""} an extra Fluent Bit config file: set ` +
        "router.configFile to {type: init-s3, value: arn:aws:s3:::BUCKET/KEY} (Fargate or EC2, with an init " +
        "router image), {type: s3, value: arn:aws:s3:::BUCKET/KEY} (EC2) or {type: file, value: " +
        "/fluent-bit/etc/extra.conf} in a custom router image; `render` prints the file",
    });
  }
  const cf = spec.router.configFile;
  if (cf?.type === "s3" && parseS3ObjectArn(cf.value) === undefined) {
    issues.push({
      path: ["router", "configFile", "value"],
      message:
        "an s3 config file is given as an object ARN: arn:aws:s3:::BUCKET/KEY (or arn:aws-cn / arn:aws-us-gov), " +
        "with a valid bucket name",
    });
  }
  if (cf?.type === "file" && !/^\/[A-Za-z0-9/_.-]+$/.test(cf.value)) {
    issues.push({
      path: ["router", "configFile", "value"],
      message:
        parseS3ObjectArn(cf.value) !== undefined
          ? "a file config is a path inside the router image, not an S3 ARN: for an S3 object use type init-s3 " +
            "(with an init router image) or s3 (EC2 launch type)"
          : "a file config is an absolute path inside the router image, e.g. /fluent-bit/etc/extra.conf",
    });
  }
  return issues;
}

function bufferIssues(spec: LogRouterSpec): SpecIssue[] {
  const b = spec.router.buffer;
  if (b === undefined) return [];
  const issues: SpecIssue[] = [];
  const filesystem = b.type === "filesystem";
  for (const field of ["path", "totalLimitSize", "maxChunksUp"] as const) {
    if (!filesystem && b[field] !== undefined) {
      issues.push({
        path: ["router", "buffer", field],
        message: `${field} applies to filesystem buffering: set router.buffer.type: filesystem`,
      });
    }
  }
  if (b.memBufLimit !== undefined) {
    if (filesystem) {
      issues.push({
        path: ["router", "buffer", "memBufLimit"],
        message:
          "Mem_Buf_Limit limits memory-buffered inputs only; with filesystem buffering, maxChunksUp limits memory",
      });
    } else if (spec.multiline === undefined) {
      issues.push({
        path: ["router", "buffer", "memBufLimit"],
        message:
          "memBufLimit limits the inputs the rendered config adds, and without multiline it adds none; FireLens's " +
          "own inputs take no Mem_Buf_Limit from a config file (bound them with type: filesystem and maxChunksUp)",
      });
    }
  }
  return issues;
}

import { TerminalError } from "../../controllers/reconciler.ts";
import type { CloudMapApi } from "./cloud-map-api.ts";
import type { InstanceOperations } from "./instance-operations.ts";
import { runAll } from "./operation-waiter.ts";
import { planServiceDeletion } from "./service-planner.ts";

/** Parallel UpdateInstanceCustomHealthStatus calls per service (not an operation: answered at once). */
export const INSTANCE_CONCURRENCY = 8;

/**
 * Deregisters the instances this owner registered, waits for Cloud Map to finish, then deletes the service. Cloud
 * Map refuses to delete a service that still has instances, so any instance someone else registered stops here.
 */
export async function deleteServiceWithInstances(
  api: CloudMapApi,
  writes: InstanceOperations,
  serviceId: string,
  label: string,
  ownerId: string,
  signal: AbortSignal,
): Promise<void> {
  const instances = await api.listInstances(serviceId, signal).catch((e: unknown) => {
    if ((e as { errorClass?: string }).errorClass === "not-found") return [];
    throw e;
  });
  const planned = planServiceDeletion(label, instances, ownerId);
  if (planned.blockers.length > 0) {
    throw new TerminalError(
      `service ${label} is kept: instances ${planned.blockers.join(", ")} were registered by someone else`,
    );
  }
  // Every deregistration is started (a bounded number in flight) and their operations are awaited together.
  await runAll(
    planned.deregister.map(
      (id) => () =>
        writes.send(
          serviceId,
          `deregister instance ${id} from ${label}`,
          (s) => api.deregisterInstance(serviceId, id, s),
          signal,
        ),
    ),
    planned.deregister.length,
    signal,
  );
  await api.deleteService(serviceId, signal);
}

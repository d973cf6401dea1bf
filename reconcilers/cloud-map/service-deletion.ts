import { TerminalError } from "../../controllers/reconciler.ts";
import type { CloudMapApi } from "./cloud-map-api.ts";
import { runAll, type OperationWaiter } from "./operation-waiter.ts";
import { planServiceDeletion } from "./service-planner.ts";

/** Parallel Cloud Map instance operations per service. */
export const INSTANCE_CONCURRENCY = 8;

/**
 * Deregisters the instances this owner registered, waits for Cloud Map to finish, then deletes the service. Cloud
 * Map refuses to delete a service that still has instances, so any instance someone else registered stops here.
 */
export async function deleteServiceWithInstances(
  api: CloudMapApi,
  operations: OperationWaiter,
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
  await runAll(
    planned.deregister.map((id) => async () => {
      const op = await api.deregisterInstance(serviceId, id, signal);
      if (op !== undefined) await operations.wait(op, `deregister instance ${id} from ${label}`, signal);
    }),
    INSTANCE_CONCURRENCY,
    signal,
  );
  await api.deleteService(serviceId, signal);
}

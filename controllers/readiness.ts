/**
 * A condition `/readyz` waits for besides the controller's own (specs read and every key reconciled once): that AWS
 * answers, say. `reason` is undefined when met, else a few words `/readyz` prints.
 */
export interface ReadinessCheck {
  reason(): string | undefined;
}

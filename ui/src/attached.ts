// The customer attached to the sale being rung up, shared by the shell and the screens that
// attach one.
import type { Hit } from "./api";

export type Attached = Pick<Hit, "id" | "first_name" | "surname" | "identification" | "phone" | "email">;

// How identifiers are shown to people: stored values are normalised (E.164, `V-12345678`); the
// counter shows them the way cashiers write them.

/** `+584141234567` → `0414-123.45.67`; other countries stay in international form. */
export function phone(e164: string | null): string | null {
  if (!e164) return null;
  const m = /^\+58(\d{3})(\d{3})(\d{2})(\d{2})$/.exec(e164);
  return m ? `0${m[1]}-${m[2]}.${m[3]}.${m[4]}` : e164;
}

/** `V-12345678` → `V-12.345.678`; a RIF (with its check digit) is shown as stored. */
export function identification(id: string | null): string | null {
  if (!id) return null;
  const m = /^([VE])-(\d{1,8})$/.exec(id);
  if (!m) return id;
  return `${m[1]}-${m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ".")}`;
}

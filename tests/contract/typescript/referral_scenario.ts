// A partner system written in TypeScript, built from openapi/gateway.json alone: the types
// come from openapi-typescript (generated into a temporary folder by
// tests/contract/test_generated_typescript_client.py, imported here as "@generated/gateway"),
// the calls go through openapi-fetch. The test type-checks this file with `tsc --strict`;
// the `@ts-expect-error` lines prove the generated types refuse what the API refuses.
import createClient from "openapi-fetch";
import type { components, paths } from "@generated/gateway";

type ReferralCreate = components["schemas"]["ReferralCreate"];
type ReferralRead = components["schemas"]["ReferralRead"];
type ProblemDetails = components["schemas"]["ProblemDetails"];
type ConcernType = components["schemas"]["ConcernType"];

/** A school's designated safeguarding lead refers a child (an invented one). */
export function schoolReferral(sourceReference: string): ReferralCreate {
  return {
    child: {
      given_name: "Riley",
      family_name: "Example",
      date_of_birth: "2011-03-14",
      gender: "female",
      school: "Abbeydale Grange School",
    },
    referrer: { name: "Sam Teacher", role: "Designated Safeguarding Lead", email: "dsl@school.example" },
    concern_types: ["county_lines", "missing"],
    summary: "Seen getting into cars with older youths outside school; missing twice this month.",
    lawful_basis: { basis: "safeguarding_without_consent", reason: "Telling the family may put Riley at risk." },
    urgency: "urgent",
    source_reference: sourceReference,
  };
}

/** Why a call failed, as the problem+json body says it. */
export function describeProblem(problem: ProblemDetails): string {
  const fields = (problem.errors ?? []).map((error) => error.pointer).join(", ");
  return `${problem.status} ${problem.title}: ${problem.detail}${fields ? ` (${fields})` : ""}`;
}

/** Sends the referral (a safe retry with the same Idempotency-Key) and reads back the
 * first page of that child's referrals, following `next_cursor` once if there is more. */
export async function referAndReadBack(baseUrl: string, token: string): Promise<ReferralRead[]> {
  const gateway = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const created = await gateway.POST("/api/v1/referrals", {
    params: { header: { "Idempotency-Key": "school-mis-2026-000123" } },
    body: schoolReferral("MIS-2026-000123"),
  });
  if (created.error !== undefined) {
    throw new Error(describeProblem(created.error));
  }
  const referral: ReferralRead = created.data;
  const status: components["schemas"]["ReferralStatus"] = referral.status;
  const concerns: ConcernType[] = referral.concern_types;

  const page = await gateway.GET("/api/v1/referrals", {
    params: { query: { child_id: referral.child_id, status, concern_type: concerns[0], limit: 25 } },
  });
  if (page.error !== undefined) {
    throw new Error(describeProblem(page.error));
  }
  const items: ReferralRead[] = [...page.data.items];
  const cursor: string | null | undefined = page.data.next_cursor;
  if (cursor) {
    const next = await gateway.GET("/api/v1/referrals", { params: { query: { child_id: referral.child_id, cursor } } });
    if (next.data) items.push(...next.data.items);
  }
  return items;
}

// What the generated types must refuse.
export const refused: ReferralCreate[] = [
  // @ts-expect-error a referral without a summary is not a referral
  { referrer: { name: "A", role: "B" }, concern_types: ["other"], lawful_basis: { basis: "consent" } },
  {
    referrer: { name: "A", role: "B" },
    // @ts-expect-error concern types are a closed vocabulary
    concern_types: ["shoplifting"],
    summary: "x",
    lawful_basis: { basis: "consent" },
  },
];

export async function wrongCalls(baseUrl: string): Promise<void> {
  const gateway = createClient<paths>({ baseUrl });
  // @ts-expect-error no such path in the platform
  await gateway.GET("/api/v1/referral");
  // @ts-expect-error a referral's status is not a number
  await gateway.GET("/api/v1/referrals", { params: { query: { status: 3 } } });
}

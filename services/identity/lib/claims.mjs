// The platform's claims in access tokens, checked where they are configured (accounts,
// clients) so that a typing mistake in a file stops at the provider instead of reaching
// the services as a token they refuse, or worse, one they accept.

export const USER_ROLES = ['applicant', 'city', 'province', 'ministry', 'expert', 'evaluator', 'auditor', 'privacy'];
// `system`: the platform's own timers, a machine identity no person signs in as.
export const MACHINE_ROLES = [...USER_ROLES, 'system'];

const REGION_CODE = /^\d{6}$/; // GB/T 2260
// The profile's e-mail address (optional): notices reach the person there (issue #20).
const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]{2,}$/;

export function checkClaims({ role, org, region, name, email }, roles, label) {
  const problems = [];
  if (email !== undefined && (typeof email !== 'string' || email.length > 254 || !EMAIL.test(email))) {
    problems.push('email must be an e-mail address (name@domain)');
  }
  if (!roles.includes(role)) problems.push(`role must be one of ${roles.join(', ')}`);
  if (typeof org !== 'string' || !org.trim()) problems.push('org is required');
  if (typeof name !== 'string' || !name.trim()) problems.push('name is required');
  if (role === 'applicant' || region !== undefined) {
    // A unit files where it is registered: the services take its region from the token.
    const valid = region && REGION_CODE.test(region.province)
      && (region.city === null || REGION_CODE.test(region.city));
    if (!valid) problems.push('region must be {"province": code, "city": code or null}');
  }
  if (problems.length) throw new Error(`${label}: ${problems.join('; ')}`);
}

export function platformClaims({ role, org, region, name, email }) {
  return {
    role, org, name,
    ...(region === undefined ? {} : { region }),
    ...(email === undefined ? {} : { email }),
  };
}

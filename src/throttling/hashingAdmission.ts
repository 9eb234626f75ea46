import type { AuthService } from '../accounts/authentication';
import type { HashingPool } from '../passwords/hashingPool';

/**
 * Admits `login` and `register` to the hashing pool's per-client share before they do anything
 * else (docs/security.md, "Password hashing under load"). The pool sheds a flood's hashes either
 * way; admitting the calls themselves also spares the database the flood's throttle reads and
 * writes, which would otherwise queue every other client's sign-in behind them.
 */
export function withHashingAdmission(auth: AuthService, pool: HashingPool): AuthService {
  return {
    ...auth,
    register: (input, client) => pool.admit(() => auth.register(input, client), client.ip),
    login: (input, client) => pool.admit(() => auth.login(input, client), client.ip),
  };
}

import type { Prisma, PrismaClient } from "@reco/db";
import { AppError } from "@reco/contracts";

type Tx = Prisma.TransactionClient;

/** A write by a process that no longer holds the lease (it was paused, or lost it): refused. */
export class LeaseLost extends AppError {
  constructor(name: string, holder: string, token: number) {
    super(
      "CONFLICT",
      `lease ${name} is no longer held by ${holder} with token ${token}; the write was refused`,
    );
  }
}

export interface LeaseGrant {
  token: number;
  /** A fresh holder (or a new term after the lease ran out): its token is new. */
  acquired: boolean;
}

/**
 * A named lease in the database with a fencing token (Kleppmann's fencing). One holder at a time;
 * a new holder gets a larger token. `fenced(tx)` locks the lease row inside the caller's
 * transaction and refuses unless this holder still holds it with its token and it has not run
 * out, so a leader that was paused past its lease and wakes up cannot write, even mid-step: a
 * takeover waits for the row lock, and a write after the takeover sees the new token.
 * Time is the database's, so holders on different machines agree on expiry.
 */
export class DatabaseLease {
  private token: number | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number,
  ) {}

  get currentToken(): number | null {
    return this.token;
  }

  /** Takes the lease when free or run out, renews it when held; null when another holds it. */
  async acquire(): Promise<LeaseGrant | null> {
    const rows = await this.prisma.$queryRawUnsafe<{ token: number }[]>(
      `INSERT INTO leases (name, holder, token, expires_at, updated_at)
       VALUES ($1, $2, 1, now() + make_interval(secs => $3::float8 / 1000), now())
       ON CONFLICT (name) DO UPDATE SET
         token = CASE WHEN leases.holder = EXCLUDED.holder AND leases.expires_at > now()
                      THEN leases.token ELSE leases.token + 1 END,
         holder = EXCLUDED.holder,
         expires_at = EXCLUDED.expires_at,
         updated_at = now()
       WHERE leases.holder = EXCLUDED.holder OR leases.expires_at <= now()
       RETURNING token`,
      this.name,
      this.holder,
      this.ttlMs,
    );
    const row = rows[0];
    if (!row) {
      this.token = null;
      return null;
    }
    const acquired = this.token !== Number(row.token);
    this.token = Number(row.token);
    return { token: this.token, acquired };
  }

  /** Gives the lease up (a graceful stop), so a successor need not wait for it to run out. */
  async release(): Promise<void> {
    if (this.token === null) return;
    await this.prisma.$executeRawUnsafe(
      `UPDATE leases SET expires_at = now() - interval '1 millisecond', updated_at = now()
        WHERE name = $1 AND holder = $2 AND token = $3`,
      this.name,
      this.holder,
      this.token,
    );
    this.token = null;
  }

  /** Inside a transaction: locks the lease row and throws LeaseLost unless this holder still holds it. */
  async fenced(tx: Tx, token = this.token): Promise<number> {
    if (token === null) throw new LeaseLost(this.name, this.holder, -1);
    const rows = await tx.$queryRawUnsafe<{ token: number }[]>(
      `SELECT token FROM leases
        WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > now()
        FOR UPDATE`,
      this.name,
      this.holder,
      token,
    );
    if (!rows.length) throw new LeaseLost(this.name, this.holder, token);
    return token;
  }
}

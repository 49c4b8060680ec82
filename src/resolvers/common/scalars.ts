import { DateTimeResolver, TimeResolver } from "graphql-scalars";

/**
 * ISO-8601 date-time with offset (`2024-01-25T21:10:16.000Z`): every vendor `yyyy-MM-dd HH:mm:ss` becomes one,
 * converted in `lib/time.ts`.
 */
export const DateTimeScalar = DateTimeResolver;

/** RFC 3339 time of day with offset (`13:14:00Z`): the visitor keys' daily windows, which the vendor gives in UTC. */
export const TimeScalar = TimeResolver;

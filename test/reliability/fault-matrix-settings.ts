/**
 * Rows run in worlds of their own, so they run side by side; most of a row's time is spent
 * waiting (retries, timeouts), not computing.
 */
export const MATRIX_CONCURRENCY = 8;

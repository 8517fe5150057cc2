package dev.connstate;

/**
 * What a connection did over its whole life, reported with its terminal state: the figures of
 * a connection log's record, beside those every transition carries ({@link ConnInfo#ageNanos()},
 * {@link ConnInfo#requests()}, {@link ConnInfo#longestIdleNanos()}).
 *
 * <p>The three times add up to the connection's age at its end: the wait for the first request
 * (or the whole life, if none came), the time {@code active} and the time {@code idle}.</p>
 *
 * @param firstRequestNanos from the accept to the first byte of the first request, in
 * nanoseconds; -1 if the connection never sent one
 * @param activeNanos the total time spent {@link ConnState#ACTIVE}, in nanoseconds
 * @param idleNanos the total time spent {@link ConnState#IDLE}, in nanoseconds
 * @param bytesIn the bytes read from the client, as Jetty counts them: with TLS, the encrypted
 * bytes on the wire; otherwise the HTTP connection's (HTTP/1, then HTTP/2 after an h2c upgrade);
 * -1 if Jetty counted none
 * @param bytesOut the bytes written to the client, counted the same way
 */
public record ConnTotals(long firstRequestNanos, long activeNanos, long idleNanos, long bytesIn, long bytesOut)
{
}

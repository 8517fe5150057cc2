package dev.connstate.metrics;

/**
 * What a metrics backend records for the transitions {@link MetricsListener} reports: one
 * implementation per backend, holding that backend's instruments.
 *
 * <p>Every method is called by the inline listener, on the Jetty thread that caused the
 * transition, with the connection's lock held: it must not block, and must not allocate once
 * the instruments of the kind and outcome exist (it makes them the first time).</p>
 */
public interface MetricsSink
{
    /**
     * A connection of this kind was opened, began a request, closed or was hijacked; called before
     * the other calls for that transition (not when a connection goes idle, which changes no
     * kind). A backend that needs an instrument per kind to count open connections makes it the
     * first time.
     *
     * @param kind the connection's kind index
     */
    void seen(int kind);

    /**
     * A connection left {@code new}: its first request began, or it closed without one.
     *
     * @param kind the connection's kind index
     * @param outcome {@link Instruments#REQUEST_CAME}, or the close's outcome ({@link Instruments#outcome})
     * @param nanos how long it was {@code new}
     */
    void timeToFirstRequest(int kind, int outcome, long nanos);

    /**
     * An idle wait, recorded when the connection ends: with {@link Instruments#REQUEST_CAME}, the
     * longest wait that a request ended (once per connection that had one); with a close's
     * outcome, the wait that the close ended. For one close, the wait the close ended comes first.
     *
     * @param kind the connection's kind index
     * @param outcome {@link Instruments#REQUEST_CAME}, or the close's outcome
     * @param nanos how long it was {@code idle}
     */
    void idleTime(int kind, int outcome, long nanos);

    /**
     * A TLS connection's handshake succeeded: recorded once, when the connection leaves
     * {@code new} (its first request began, or it closed without one); before {@link #closed}
     * for a close.
     *
     * @param kind the connection's kind index without its HTTP version ({@link ConnectionKinds#withoutVersion})
     * @param tlsVersion the TLS version's index ({@link Instruments#tlsVersion})
     * @param nanos how long the handshake took, from the accept
     */
    void tlsHandshakeSucceeded(int kind, int tlsVersion, long nanos);

    /**
     * A TLS connection closed before its handshake completed; comes before {@link #closed} for
     * the same close.
     *
     * @param kind the connection's kind index without its HTTP version ({@link ConnectionKinds#withoutVersion})
     * @param outcome the close's outcome: why the handshake did not complete
     * @param ageNanos how long the connection lived: the whole handshake it had
     */
    void tlsHandshakeFailed(int kind, int outcome, long ageNanos);

    /**
     * A connection closed; comes after {@link #timeToFirstRequest} or {@link #idleTime} for the same close.
     *
     * @param kind the connection's kind index
     * @param outcome the close's outcome (never {@link Instruments#REQUEST_CAME})
     * @param ageNanos how long it lived
     * @param requests how many requests it served
     */
    void closed(int kind, int outcome, long ageNanos, long requests);

    /**
     * A request raced the connection's idle close: its client sent it after the server began to
     * close, and got no response. Comes after {@link #closed} for the same close.
     *
     * @param kind the connection's kind index
     * @param outcome the close's outcome: why the server was closing it
     */
    void raced(int kind, int outcome);

    /**
     * A connection was refused when it opened (a cap per client). Comes after {@link #closed} for
     * the same close.
     *
     * @param kind the connection's kind index
     * @param outcome the close's outcome: why it was refused
     */
    void rejected(int kind, int outcome);

    /**
     * The application took a connection over; nothing more comes for it.
     *
     * @param kind the connection's kind index
     */
    void hijacked(int kind);
}

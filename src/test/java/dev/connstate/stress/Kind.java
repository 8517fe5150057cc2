package dev.connstate.stress;

/**
 * The client behaviours of the stress mix, with their weights (how often each is drawn).
 * {@link StressClient} scripts them and says which sequence each must produce.
 */
enum Kind
{
    /** 1-4 GETs on one connection, short pauses, the client closes (FIN or RST). */
    KEEP_ALIVE(18),
    /** GET, stay idle 0.3-1.5 s (below the idle timeout), GET, close: keeps many connections open at once. */
    HOLD(8),
    /** GET with Connection: close; the server closes. */
    CONNECTION_CLOSE(6),
    /** HTTP/1.0 GET without keep-alive; the server closes. */
    HTTP10(3),
    /** 2-4 GETs in one write, then the responses. */
    PIPELINE(7),
    /** Part of a request head, then FIN. */
    PARTIAL_CLOSE(4),
    /** Part of a request head, then RST: the server may or may not have read the bytes. */
    PARTIAL_RESET(3),
    /** A POST whose response head came, then RST in the middle of the body. */
    UPLOAD_RESET(4),
    /** RST after the first bytes of a long, slow response. */
    RESET_MID_RESPONSE(4),
    /** FIN (with unread data: the kernel sends RST) after the first bytes of a long, slow response. */
    CLOSE_MID_RESPONSE(3),
    /** A malformed request (or a good one, then a malformed one); the server answers 4xx and closes. */
    MALFORMED(6),
    /** Connect, send nothing, FIN. */
    NOTHING_CLOSE(3),
    /** Connect, send nothing, RST. */
    NOTHING_RESET(2),
    /** Connect to the short idle timeout connector and wait for the server to close. */
    IDLE_NEW(2),
    /** GET on the short idle timeout connector, then wait for the server to close. */
    IDLE_AFTER_GET(3),
    /** Part of a request head on the short idle timeout connector, then wait for the server to close. */
    IDLE_PARTIAL(2),
    /** TLS (no ALPN: HTTP/1.1), 1-3 GETs. */
    TLS_KEEP_ALIVE(6),
    /** Plain-text HTTP to the TLS port. */
    TLS_PLAINTEXT(2),
    /** A TLS client that refuses the server's certificate. */
    TLS_UNTRUSTED(2),
    /** A TLS record header followed by junk. */
    TLS_GARBAGE(2),
    /** h2 (TLS, ALPN, HTTP2Client): three overlapping streams. */
    H2_OVERLAP(3),
    /** h2c prior knowledge (HTTP2Client): three overlapping streams. */
    H2C_OVERLAP(3),
    /** h2c prior knowledge (HTTP2Client): two sequential requests. */
    H2C_SEQUENTIAL(2),
    /** h2c by the HTTP/1.1 upgrade, raw frames. */
    H2C_UPGRADE(2),
    /** WebSocket upgrade, an echo, the close handshake. */
    WEBSOCKET(4),
    /** WebSocket upgrade, then RST. */
    WEBSOCKET_RESET(2);

    final int weight;

    Kind(int weight)
    {
        this.weight = weight;
    }
}

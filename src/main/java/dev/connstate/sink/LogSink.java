package dev.connstate.sink;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;

import dev.connstate.Addresses;
import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import dev.connstate.TlsInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs one line per transition at INFO through SLF4J, by default in the spirit of Go's example:
 * {@code Client: 127.0.0.1:54321 - new state: new (id 17)}.
 *
 * <p>The line is a template whose placeholders are {@code {id}}, {@code {remote}},
 * {@code {local}}, {@code {state}}, {@code {prev}}, {@code {protocol}}, {@code {secure}},
 * {@code {requests}}, {@code {prevMs}}, {@code {ageMs}}, {@code {reason}}, {@code {tls}}, {@code {cipher}}
 * and {@code {sni}} ({@code -} where there is no value); an unknown placeholder is refused when the sink is
 * made. Values are made safe for a log line: control characters (CR, LF, ...) are escaped.</p>
 *
 * <p>It does I/O (the logger's appenders): register it as a queued listener, never inline.</p>
 */
public final class LogSink implements ConnStateListener
{
    /** The default logger name. */
    public static final String DEFAULT_LOGGER = "connstate";
    /** The default line. */
    public static final String DEFAULT_FORMAT = "Client: {remote} - new state: {state} (id {id})";

    private static final List<String> PLACEHOLDERS = List.of("id", "remote", "local", "state", "prev", "protocol", "secure", "requests", "prevMs", "ageMs", "reason", "tls", "cipher", "sni");
    /** The addresses kept formatted: a slot per connection id (and side), the most recent wins. */
    private static final int ADDRESS_SLOTS = 1024;

    /** One piece of the line: a literal or a placeholder. */
    @FunctionalInterface
    private interface Part
    {
        void append(LogSink sink, StringBuilder line, ConnInfo conn);
    }

    /** An address and its text, made safe for a line; immutable, so a slot can be read while another thread replaces it. */
    private record Address(SocketAddress address, String text)
    {
    }

    private final Logger logger;
    private final String format;
    private final Part[] parts;
    /** Enough for most lines: the literals and some 24 characters per placeholder. */
    private final int capacity;
    private final Address[] addresses = new Address[ADDRESS_SLOTS];

    /**
     * Logs the default line to the logger {@value #DEFAULT_LOGGER}.
     */
    public LogSink()
    {
        this(DEFAULT_LOGGER, DEFAULT_FORMAT);
    }

    /**
     * @param logger the SLF4J logger name
     * @param format the line template
     * @throws IllegalArgumentException if the template has an unknown or unclosed placeholder
     */
    public LogSink(String logger, String format)
    {
        if (logger == null || logger.isBlank())
            throw new IllegalArgumentException("The logger name must not be empty");
        this.logger = LoggerFactory.getLogger(logger);
        this.format = format;
        List<Part> parts = new ArrayList<>();
        int capacity = 16;
        for (Object part : parse(format))
        {
            if (part instanceof String literal)
            {
                parts.add((sink, line, conn) -> line.append(literal));
                capacity += literal.length();
            }
            else
            {
                parts.add((Part)part);
                capacity += 24;
            }
        }
        this.parts = parts.toArray(new Part[0]);
        this.capacity = capacity;
    }

    /** The template as literal strings and placeholders, parsed once. */
    private static List<Object> parse(String format)
    {
        if (format == null || format.isEmpty())
            throw new IllegalArgumentException("The line format must not be empty");
        List<Object> parts = new ArrayList<>();
        int i = 0;
        while (i < format.length())
        {
            int open = format.indexOf('{', i);
            if (open < 0)
            {
                parts.add(format.substring(i));
                break;
            }
            int close = format.indexOf('}', open);
            if (close < 0)
                throw new IllegalArgumentException("Unclosed placeholder at position " + open + " of line format '" + format + "'");
            if (open > i)
                parts.add(format.substring(i, open));
            String name = format.substring(open + 1, close);
            parts.add(placeholder(name, format));
            i = close + 1;
        }
        return List.copyOf(parts);
    }

    /**
     * Every value goes into the line as {@code String.valueOf} gives it, made safe by
     * {@link OneLine}; numbers, booleans and state names need no escaping and are appended as they are.
     */
    private static Part placeholder(String name, String format)
    {
        return switch (name)
        {
            case "id" -> (sink, line, c) -> line.append(c.id());
            case "remote" -> (sink, line, c) -> sink.address(line, c, true);
            case "local" -> (sink, line, c) -> sink.address(line, c, false);
            case "state" -> (sink, line, c) -> line.append(c.state());
            case "prev" -> (sink, line, c) ->
            {
                ConnState previous = c.previous();
                line.append(previous == null ? "-" : previous.toString());
            };
            case "protocol" -> (sink, line, c) -> OneLine.append(line, String.valueOf(c.protocol()));
            case "secure" -> (sink, line, c) -> line.append(c.secure());
            case "requests" -> (sink, line, c) -> line.append(c.requests());
            case "prevMs" -> (sink, line, c) -> line.append(c.previousNanos() / 1_000_000L);
            case "ageMs" -> (sink, line, c) -> line.append(c.ageNanos() / 1_000_000L);
            case "reason" -> (sink, line, c) -> line.append(c.reason() == null ? "-" : c.reason().toString());
            case "tls" -> (sink, line, c) ->
            {
                TlsInfo tls = c.tls();
                OneLine.append(line, tls == null ? "-" : String.valueOf(tls.protocol()));
            };
            case "cipher" -> (sink, line, c) ->
            {
                TlsInfo tls = c.tls();
                OneLine.append(line, tls == null ? "-" : String.valueOf(tls.cipherSuite()));
            };
            case "sni" -> (sink, line, c) ->
            {
                TlsInfo tls = c.tls();
                OneLine.append(line, tls == null || tls.sniHost() == null ? "-" : tls.sniHost());
            };
            default -> throw new IllegalArgumentException("Unknown placeholder {" + name + "} in line format '" + format + "' (known: " + PLACEHOLDERS + ")");
        };
    }

    /**
     * Appends {@code conn.remoteAddress()} (or the local one), made safe for the line. The text of
     * an event's {@link InetSocketAddress}, which never changes, is made once per address object.
     */
    private void address(StringBuilder line, ConnInfo conn, boolean remote)
    {
        if (conn instanceof ConnStateEvent event)
        {
            SocketAddress address = remote ? event.remote() : event.local();
            if (address instanceof InetSocketAddress)
            {
                int slot = (int)(event.id() << 1 | (remote ? 0 : 1)) & (ADDRESS_SLOTS - 1);
                Address cached = addresses[slot];
                if (cached == null || cached.address() != address)
                {
                    cached = new Address(address, OneLine.of(Addresses.format(address)));
                    addresses[slot] = cached;
                }
                line.append(cached.text());
                return;
            }
        }
        OneLine.append(line, String.valueOf(remote ? conn.remoteAddress() : conn.localAddress()));
    }

    /**
     * @return the line template
     */
    public String getFormat()
    {
        return format;
    }

    /**
     * @param conn the connection
     * @return the line this sink logs for it
     */
    public String line(ConnInfo conn)
    {
        StringBuilder line = new StringBuilder(capacity);
        for (Part part : parts)
            part.append(this, line, conn);
        return line.toString();
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        if (logger.isInfoEnabled())
            logger.info(line(conn));
    }

    @Override
    public String toString()
    {
        return "log[" + logger.getName() + "]";
    }
}

package dev.connstate.sink;

import dev.connstate.ConnStateListener;

/**
 * Makes a sink that the {@code connstate} module can name in {@code jetty.connstate.sinks}.
 *
 * <p>Providers are found with {@link java.util.ServiceLoader}: a jar in
 * {@code $JETTY_BASE/lib/connstate/} that lists its provider in
 * {@code META-INF/services/dev.connstate.sink.ConnStateSinkProvider} adds a sink name. The
 * built-in {@code log} and {@code jsonl} sinks are provided the same way.</p>
 */
public interface ConnStateSinkProvider
{
    /**
     * @return the name to use in {@code jetty.connstate.sinks}: lower-case letters, digits,
     * {@code -} and {@code _}
     */
    String name();

    /**
     * Makes the sink, each time the server starts. The module feeds it through a bounded queue
     * on its own thread (it may do I/O) and closes it when the server stops if it is
     * {@link java.io.Closeable}.
     *
     * @param settings the sink's own properties, {@code jetty.connstate.NAME.KEY}
     * @return the sink
     * @throws RuntimeException for a setting that cannot work: {@link SinkSettings#invalid(String, String)}
     * makes one that names the property and its value
     */
    ConnStateListener newSink(SinkSettings settings);
}

package dev.connstate.sink;

import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.util.Objects;

import dev.connstate.ConnStateListener;

/**
 * A sink that writes JSON lines to a {@link JsonLinesFile}: what the {@code jsonl} and
 * {@code connlog} sinks share, the file, its flush by the sink's queue and its close.
 */
public abstract class JsonFileSink implements ConnStateListener, Flushable, Closeable
{
    private final String name;
    /** Where the lines go. */
    protected final JsonLinesFile out;

    /**
     * @param name the sink's name, for {@link #toString()}
     * @param out where the lines go
     */
    protected JsonFileSink(String name, JsonLinesFile out)
    {
        this.name = name;
        this.out = Objects.requireNonNull(out, "out");
    }

    /** Writes out the lines buffered; its queue calls it each time it has delivered every event it held. */
    @Override
    public void flush() throws IOException
    {
        out.flush();
    }

    @Override
    public void close() throws IOException
    {
        out.close();
    }

    @Override
    public String toString()
    {
        return name + "[" + out + "]";
    }
}

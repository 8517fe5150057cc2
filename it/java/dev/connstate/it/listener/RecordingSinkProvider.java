package dev.connstate.it.listener;

import java.io.IOException;

import dev.connstate.ConnStateListener;
import dev.connstate.sink.ConnStateSinkProvider;
import dev.connstate.sink.SinkSettings;

/**
 * A third-party sink, as a jar in {@code lib/connstate/} brings it: named {@code recording} in
 * jetty.connstate.sinks, with its own setting {@code jetty.connstate.recording.file}.
 */
public class RecordingSinkProvider implements ConnStateSinkProvider
{
    @Override
    public String name()
    {
        return "recording";
    }

    @Override
    public ConnStateListener newSink(SinkSettings settings)
    {
        String file = settings.get("file", "");
        if (file.isEmpty())
            throw settings.invalid("file", "a file name is required");
        try
        {
            return new RecordingListener(settings.resolve(file));
        }
        catch (IOException x)
        {
            throw settings.invalid("file", "cannot write: " + x);
        }
    }
}

package dev.connstate.jetty;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.connstate.TrackedServer;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The module bean in-process: what the properties resolve to, the one-line errors, and its
 * lifecycle on a real server (start, stop, start again).
 */
public class ConnStateModuleTest
{
    @TempDir
    Path base;

    private ConnStateModule module(String sinks)
    {
        return module(new Server(), sinks);
    }

    private ConnStateModule module(Server server, String sinks)
    {
        ConnStateModule module = new ConnStateModule(server);
        module.setBaseDirectory(base.toString());
        module.setSinks(sinks);
        return module;
    }

    @Test
    public void defaultsAreTheLogSink()
    {
        ConnStateModule module = new ConnStateModule(new Server());
        assertEquals("log", module.getSinks());
        var resolved = module.resolve();
        assertEquals(List.of("log"), List.copyOf(resolved.keySet()));
        assertInstanceOf(LogSink.class, resolved.get("log"));
        assertEquals(LogSink.DEFAULT_FORMAT, ((LogSink)resolved.get("log")).getFormat());
    }

    @Test
    public void jsonlFileIsRelativeToTheBaseAndItsDirectoryIsMade() throws IOException
    {
        ConnStateModule module = module(" log , jsonl ");
        var resolved = module.resolve();
        assertEquals(List.of("log", "jsonl"), List.copyOf(resolved.keySet()));
        assertTrue(Files.exists(base.resolve("logs/connstate.jsonl")));
        ((JsonLinesSink)resolved.get("jsonl")).close();
    }

    @Test
    public void oneLineErrors()
    {
        assertEquals("jetty.connstate.sinks=log,foo: unknown sink 'foo' (known: log, jsonl, memory)",
            assertThrows(ConnStateConfigurationException.class, () -> module("log,foo").resolve()).getMessage());
        assertEquals("jetty.connstate.sinks=log,log: 'log' is listed twice",
            assertThrows(ConnStateConfigurationException.class, () -> module("log,log").resolve()).getMessage());
        ConnStateModule noDefaultConstructor = module("log");
        noDefaultConstructor.setListeners(NoDefaultConstructor.class.getName());
        assertEquals("jetty.connstate.listeners=" + NoDefaultConstructor.class.getName() + ": class '" + NoDefaultConstructor.class.getName() +
                "' has no public no-argument constructor",
            assertThrows(ConnStateConfigurationException.class, noDefaultConstructor::resolve).getMessage());
        ConnStateModule emptyLogger = module("log");
        emptyLogger.setLogLogger(" ");
        assertEquals("jetty.connstate.log.logger= : the logger name must not be empty",
            assertThrows(ConnStateConfigurationException.class, emptyLogger::resolve).getMessage());
        ConnStateModule noFile = module("jsonl");
        noFile.setJsonlFile("");
        assertEquals("jetty.connstate.jsonl.file=: a file name is required (or - for standard output)",
            assertThrows(ConnStateConfigurationException.class, noFile::resolve).getMessage());
        // No stack trace: the line is the whole message.
        assertEquals(0, new ConnStateConfigurationException("p", "v", "bad").getStackTrace().length);
    }

    @Test
    public void aBadSettingLeavesNoFileBehind()
    {
        ConnStateModule module = module("jsonl,log");
        module.setLogFormat("{nope}");
        assertThrows(ConnStateConfigurationException.class, module::resolve);
        assertFalse(Files.exists(base.resolve("logs/connstate.jsonl")));
    }

    @Test
    public void startStopStartOnARealServer() throws Exception
    {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new TrackedServer.Hello());
        ConnStateModule module = module(server, "jsonl");
        module.setListeners(Counting.class.getName());
        server.addBean(module);
        Path file = base.resolve("logs/connstate.jsonl");
        try
        {
            for (int round = 1; round <= 2; round++)
            {
                server.start();
                try (Socket socket = new Socket("127.0.0.1", connector.getLocalPort()))
                {
                    socket.setSoTimeout(10_000);
                    socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    InputStream in = socket.getInputStream();
                    assertTrue(new String(in.readAllBytes(), StandardCharsets.US_ASCII).startsWith("HTTP/1.1 200"));
                }
                server.stop();
                // Stopping delivered everything: one sink, not two, after a restart.
                assertEquals(3 * round, Files.readAllLines(file).size(), "round " + round);
                assertEquals(List.of(), List.copyOf(module.getTracker().getBeans(QueuedListener.class)), "queues left after stop");
            }
        }
        finally
        {
            server.stop();
        }
    }

    @Test
    public void sinksFromProvidersWithTheirOwnProperties()
    {
        ConnStateModule module = module("log,memory");
        module.setSinkProperty("memory.tag", "blue");
        var resolved = module.resolve();
        assertEquals(List.of("log", "memory"), List.copyOf(resolved.keySet()));
        assertEquals("memory[blue]", resolved.get("memory").toString());

        ConnStateModule unknown = module("log,nope");
        ConnStateConfigurationException x = assertThrows(ConnStateConfigurationException.class, unknown::resolve);
        assertEquals("jetty.connstate.sinks=log,nope: unknown sink 'nope' (known: log, jsonl, memory)", x.getMessage());

        ConnStateModule bad = module("memory");
        bad.setSinkProperty("memory.tag", "");
        x = assertThrows(ConnStateConfigurationException.class, bad::resolve);
        assertEquals("jetty.connstate.memory.tag=: must not be blank", x.getMessage());
    }

    @Test
    public void statusTableOnTheServersPath() throws Exception
    {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        ConnStateModule module = module(server, "log");
        module.setStatusPath("/connstate");
        server.addBean(module);
        // Set after the module, as a later XML file would: the table must still be served.
        server.setHandler(new TrackedServer.Hello());
        try
        {
            for (int round = 1; round <= 2; round++)
            {
                server.start();
                assertTrue(get(connector, "/connstate").contains("\"counts\":{\"new\":0,\"active\":1,\"idle\":0}"));
                assertTrue(get(connector, "/other").endsWith("hello"));
                server.stop();
            }
        }
        finally
        {
            server.stop();
        }
    }

    @Test
    public void badStatusSettingsStopTheStart()
    {
        Server server = new Server();
        ConnStateModule module = module(server, "log");
        module.setStatusPath("/connstate");
        module.setStatusAllow("10.0.0.0/8,example.com");
        server.addBean(module);
        ConnStateConfigurationException x = assertThrows(ConnStateConfigurationException.class, server::start);
        assertTrue(x.getMessage().startsWith("jetty.connstate.status.allow=10.0.0.0/8,example.com: Not an IP address, CIDR range or address range: 'example.com'"), x.getMessage());
        module.setStatusAllow("");
        module.setStatusPath("connstate");
        x = assertThrows(ConnStateConfigurationException.class, server::start);
        assertEquals("jetty.connstate.status.path=connstate: must start with '/', e.g. /connstate", x.getMessage());
    }

    private static String get(ServerConnector connector, String path) throws IOException
    {
        try (Socket socket = new Socket("127.0.0.1", connector.getLocalPort()))
        {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** A sink from a provider on the class path: src/test/resources/META-INF/services. */
    public static class MemorySinkProvider implements dev.connstate.sink.ConnStateSinkProvider
    {
        @Override
        public String name()
        {
            return "memory";
        }

        @Override
        public dev.connstate.ConnStateListener newSink(dev.connstate.sink.SinkSettings settings)
        {
            String tag = settings.get("tag", "plain");
            if (tag.isEmpty())
                throw settings.invalid("tag", "must not be blank");
            return new dev.connstate.ConnStateListener()
            {
                @Override
                public void onStateChange(dev.connstate.ConnInfo conn, dev.connstate.ConnState state)
                {
                }

                @Override
                public String toString()
                {
                    return "memory[" + tag + "]";
                }
            };
        }
    }

    public static class NoDefaultConstructor implements dev.connstate.ConnStateListener
    {
        public NoDefaultConstructor(String ignored)
        {
        }

        @Override
        public void onStateChange(dev.connstate.ConnInfo conn, dev.connstate.ConnState state)
        {
        }
    }

    public static class Counting implements dev.connstate.ConnStateListener
    {
        @Override
        public void onStateChange(dev.connstate.ConnInfo conn, dev.connstate.ConnState state)
        {
        }
    }
}

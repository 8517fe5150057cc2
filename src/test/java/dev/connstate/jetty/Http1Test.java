package dev.connstate.jetty;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import dev.connstate.TrackedServer;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static dev.connstate.TrackedServer.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;

public class Http1Test
{
    private static String readResponse(InputStream in) throws Exception
    {
        // Reads one "hello" response: head, then the 5-byte body.
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n"))
        {
            int b = in.read();
            if (b < 0)
                break;
            head.append((char)b);
        }
        byte[] body = in.readNBytes(5);
        return head + new String(body, StandardCharsets.US_ASCII);
    }

    @Test
    public void keepAliveGetThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                clientPort = socket.getLocalPort();
                OutputStream out = socket.getOutputStream();
                for (int i = 0; i < 3; i++)
                {
                    out.write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
                    out.flush();
                    readResponse(socket.getInputStream());
                }
            }
            assertEquals(seq("new", "active", "idle", "active", "idle", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void connectionClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                clientPort = socket.getLocalPort();
                socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"));
                // The server shuts its output after the response; the socket closes when the client closes too.
                socket.getInputStream().readAllBytes();
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void nothingSent() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                clientPort = socket.getLocalPort();
                s.recorder.idOfClientPort(clientPort);
            }
            assertEquals(seq("new", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void garbage() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                socket.getOutputStream().write(ascii("GARBAGE\r\n\r\n"));
                String response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
                assertEquals(true, response.startsWith("HTTP/1.1 400"), response);
                assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            }
        }
    }
}

package dev.connstate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * Raw HTTP/1 over a socket, for traffic no real client sends: partial, malformed, pipelined,
 * aborted. Reads bound by the socket's timeout, so a test never hangs on a missing response.
 */
public final class Raw
{
    private static final int TIMEOUT_MS = 10_000;

    private Raw()
    {
    }

    /** One HTTP/1 response as read from the wire. */
    public record Response(int status, String head, byte[] body)
    {
        public String header(String name)
        {
            for (String line : head.split("\r\n"))
            {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase(name))
                    return line.substring(colon + 1).trim();
            }
            return null;
        }

        public String text()
        {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    /** A socket to 127.0.0.1 that fails a connect or a read after 10 s instead of hanging. */
    public static Socket connect(int port) throws IOException
    {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
        socket.setSoTimeout(TIMEOUT_MS);
        return socket;
    }

    /** A socket from {@code from} (another loopback address, 127.0.0.2...) to 127.0.0.1, bound as {@link #connect(int)}. */
    public static Socket connect(String from, int port) throws IOException
    {
        Socket socket = new Socket();
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MS);
        socket.setSoTimeout(TIMEOUT_MS);
        return socket;
    }

    public static void write(Socket socket, String ascii) throws IOException
    {
        OutputStream out = socket.getOutputStream();
        out.write(ascii.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /**
     * Reads one response: the head, then a body delimited by Content-Length, chunked encoding or,
     * failing both, the end of the stream. Interim 1xx responses other than 101 are skipped.
     */
    public static Response read(InputStream in) throws IOException
    {
        while (true)
        {
            String head = readLine(in, true);
            if (head == null)
                throw new IOException("EOF before a response");
            int status = Integer.parseInt(head.split(" ")[1]);
            Response headOnly = new Response(status, head, new byte[0]);
            if (status == 100)
                continue;
            if (status == 101 || status == 204 || status == 304)
                return headOnly;
            String length = headOnly.header("Content-Length");
            String encoding = headOnly.header("Transfer-Encoding");
            byte[] body;
            if (length != null)
                body = in.readNBytes(Integer.parseInt(length));
            else if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked"))
                body = readChunked(in);
            else
                body = in.readAllBytes();
            return new Response(status, head, body);
        }
    }

    /** Reads only a response head: for responses without a body the reader cannot tell, such as a 200 to CONNECT. */
    public static Response readHead(InputStream in) throws IOException
    {
        String head = readLine(in, true);
        if (head == null)
            throw new IOException("EOF before a response");
        return new Response(Integer.parseInt(head.split(" ")[1]), head, new byte[0]);
    }

    private static byte[] readChunked(InputStream in) throws IOException
    {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (true)
        {
            String sizeLine = readLine(in, false);
            int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
            if (size == 0)
            {
                // Trailers, up to the empty line.
                while (!readLine(in, false).isEmpty())
                {
                }
                return body.toByteArray();
            }
            body.write(in.readNBytes(size));
            readLine(in, false);
        }
    }

    /** Reads up to CRLF (one line), or up to CRLFCRLF (a whole head) when {@code head}. */
    private static String readLine(InputStream in, boolean head) throws IOException
    {
        StringBuilder s = new StringBuilder();
        String end = head ? "\r\n\r\n" : "\r\n";
        while (s.length() < end.length() || !s.substring(s.length() - end.length()).equals(end))
        {
            int b = in.read();
            if (b < 0)
            {
                if (s.length() == 0)
                    return null;
                throw new IOException("EOF in the middle of " + s);
            }
            s.append((char)b);
        }
        return s.substring(0, s.length() - end.length());
    }

    /** Reads until the server closes; returns what came. */
    public static String readToEnd(Socket socket) throws IOException
    {
        return new String(socket.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    /** Closes with an RST instead of a FIN. */
    public static void reset(Socket socket) throws IOException
    {
        socket.setSoLinger(true, 0);
        socket.close();
    }
}

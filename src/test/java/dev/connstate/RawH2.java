package dev.connstate;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Raw HTTP/2 for tests that speak it over a plain socket: the client preface, and reading
 * frames until one of a type or the end of a stream. Reads are bound by the socket's timeout.
 */
public final class RawH2
{
    /** The client connection preface and an empty SETTINGS frame. */
    public static final byte[] PREFACE_AND_SETTINGS;

    static
    {
        byte[] preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        byte[] settings = {0, 0, 0, 0x4, 0, 0, 0, 0, 0};
        PREFACE_AND_SETTINGS = new byte[preface.length + settings.length];
        System.arraycopy(preface, 0, PREFACE_AND_SETTINGS, 0, preface.length);
        System.arraycopy(settings, 0, PREFACE_AND_SETTINGS, preface.length, settings.length);
    }

    private RawH2()
    {
    }

    /**
     * @param path the request's path
     * @return an HTTP/1.1 request asking to switch to h2c (empty settings): the server answers 101,
     * then the client sends {@link #PREFACE_AND_SETTINGS}, and the request becomes stream 1
     */
    public static String upgradeRequest(String path)
    {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n";
    }

    /** Reads frames until one of {@code type} arrives. */
    public static void readFrameOfType(InputStream in, int type) throws IOException
    {
        DataInputStream data = new DataInputStream(in);
        while (readFrame(data)[0] != type)
        {
        }
    }

    /** Reads frames until a HEADERS or DATA frame ends {@code streamId}. */
    public static void readEndOfStream(InputStream in, int streamId) throws IOException
    {
        DataInputStream data = new DataInputStream(in);
        while (true)
        {
            int[] frame = readFrame(data);
            boolean endStream = (frame[1] & 0x1) != 0 && (frame[0] == 0x0 || frame[0] == 0x1);
            if (endStream && frame[2] == streamId)
                return;
        }
    }

    /** Reads one frame, skipping its payload; returns its type, flags and stream id. */
    private static int[] readFrame(DataInputStream in) throws IOException
    {
        int length = (in.readUnsignedByte() << 16) | in.readUnsignedShort();
        int type = in.readUnsignedByte();
        int flags = in.readUnsignedByte();
        int stream = in.readInt() & 0x7FFFFFFF;
        in.skipNBytes(length);
        return new int[]{type, flags, stream};
    }
}

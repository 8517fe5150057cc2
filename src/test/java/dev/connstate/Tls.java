package dev.connstate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * The tests' one TLS fixture: a self-signed keystore for localhost and 127.0.0.1, made once per
 * build with {@code keytool} (nothing binary is committed), for embedded servers and for the
 * distribution's ssl module alike, and clients that trust it (or trust nothing).
 */
public final class Tls
{
    /** The password of the keystore and of its key. */
    public static final String PASSWORD = "connstate";
    private static Path keyStore;

    private Tls()
    {
    }

    /** The PKCS12 keystore ({@code target/tls/server.p12}), made on the first call of the build. */
    public static synchronized Path keyStore() throws Exception
    {
        if (keyStore != null)
            return keyStore;
        Path dir = Path.of("target", "tls").toAbsolutePath();
        Files.createDirectories(dir);
        Path path = dir.resolve("server.p12");
        if (!Files.exists(path))
        {
            Path tmp = dir.resolve("server-" + ProcessHandle.current().pid() + ".p12");
            Files.deleteIfExists(tmp);
            String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
            Process p = new ProcessBuilder(keytool, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "30",
                "-storetype", "PKCS12", "-keystore", tmp.toString(), "-storepass", PASSWORD, "-keypass", PASSWORD)
                .redirectErrorStream(true)
                .start();
            String output = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
                throw new IOException("keytool failed: " + output);
            // Atomic, so concurrent builds never read a half-written keystore.
            Files.move(tmp, path, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        keyStore = path;
        return path;
    }

    public static SslContextFactory.Server server() throws Exception
    {
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStorePath(keyStore().toString());
        ssl.setKeyStorePassword(PASSWORD);
        ssl.setKeyStoreType("PKCS12");
        return ssl;
    }

    /** A jetty-client TLS configuration that trusts the test certificate. */
    public static SslContextFactory.Client client()
    {
        SslContextFactory.Client ssl = new SslContextFactory.Client(true);
        ssl.setEndpointIdentificationAlgorithm(null);
        return ssl;
    }

    /** A raw TLS socket to 127.0.0.1, handshake done, trusting the test certificate. */
    public static SSLSocket connect(int port) throws Exception
    {
        return connect(port, null);
    }

    /** A raw TLS socket to 127.0.0.1, handshake done, trusting the test certificate, sending {@code sniHost} if not null. */
    public static SSLSocket connect(int port, String sniHost) throws Exception
    {
        SSLSocket socket = socket(port, sniHost == null ? null : new javax.net.ssl.SNIHostName(sniHost));
        socket.startHandshake();
        return socket;
    }

    /** A raw TLS socket to 127.0.0.1 trusting the test certificate, sending {@code sni} if not null; no handshake yet. */
    public static SSLSocket socket(int port, javax.net.ssl.SNIServerName sni) throws Exception
    {
        SSLSocket socket = (SSLSocket)clientContext(true).getSocketFactory().createSocket("127.0.0.1", port);
        if (sni != null)
        {
            javax.net.ssl.SSLParameters parameters = socket.getSSLParameters();
            parameters.setServerNames(java.util.List.of(sni));
            socket.setSSLParameters(parameters);
        }
        socket.setSoTimeout(10_000);
        return socket;
    }

    /**
     * A client context for raw sockets: trusting any server certificate (the test one), or none
     * (the handshake fails as it does for a client that does not know the certificate).
     */
    public static SSLContext clientContext(boolean trust) throws Exception
    {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, new TrustManager[]{new Trust(trust)}, new SecureRandom());
        return context;
    }

    private static final class Trust implements X509TrustManager
    {
        private final boolean trust;

        private Trust(boolean trust)
        {
            this.trust = trust;
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType)
        {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException
        {
            if (!trust)
                throw new CertificateException("this client trusts no certificate");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers()
        {
            return new X509Certificate[0];
        }
    }
}

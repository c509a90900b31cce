package dev.grpckeepalive.test;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NegotiationType;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;

import dev.grpckeepalive.client.ChannelBuilderCustomizer;
import dev.grpckeepalive.server.ServerBuilderCustomizer;

/**
 * A self-signed certificate for localhost and 127.0.0.1, made by the JDK's keytool in a
 * temporary directory, with the server and channel customizers that use it and the
 * properties of Spring Boot SSL bundles that hold it.
 */
public final class SelfSignedTls {

	private static final char[] PASSWORD = "changeit".toCharArray();

	private final KeyStore keyStore;

	private final Path file;

	private SelfSignedTls(KeyStore keyStore, Path file) {
		this.keyStore = keyStore;
		this.file = file;
	}

	public static SelfSignedTls generate() throws Exception {
		Path directory = Files.createTempDirectory("grpc-keepalive-tls");
		Path file = directory.resolve("server.p12");
		String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
		Process process = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", "grpc", "-keyalg", "EC",
				"-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1",
				"-validity", "2", "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass",
				new String(PASSWORD), "-keypass", new String(PASSWORD)))
			.redirectErrorStream(true)
			.start();
		String output = new String(process.getInputStream().readAllBytes());
		if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
			throw new IllegalStateException("keytool failed: " + output);
		}
		KeyStore keyStore = KeyStore.getInstance("PKCS12");
		try (InputStream in = Files.newInputStream(file)) {
			keyStore.load(in, PASSWORD);
		}
		file.toFile().deleteOnExit();
		directory.toFile().deleteOnExit();
		return new SelfSignedTls(keyStore, file);
	}

	/**
	 * Properties for two Spring Boot SSL bundles on this certificate: {@code <name>} with key
	 * and trust store, {@code <name>-trust} with the trust store only.
	 */
	public String[] bundleProperties(String name) {
		String location = "file:" + this.file.toAbsolutePath();
		String keyStore = "spring.ssl.bundle.jks." + name + ".keystore.";
		String trustStore = "spring.ssl.bundle.jks." + name + ".truststore.";
		String trustOnly = "spring.ssl.bundle.jks." + name + "-trust.truststore.";
		return new String[] { keyStore + "location=" + location, keyStore + "password=changeit",
				keyStore + "type=PKCS12", trustStore + "location=" + location, trustStore + "password=changeit",
				trustStore + "type=PKCS12", trustOnly + "location=" + location, trustOnly + "password=changeit",
				trustOnly + "type=PKCS12" };
	}

	public ServerBuilderCustomizer serverCustomizer() {
		return (builder) -> builder.sslContext(serverContext());
	}

	public ChannelBuilderCustomizer channelCustomizer() {
		return (name, builder) -> builder.negotiationType(NegotiationType.TLS).sslContext(clientContext());
	}

	private SslContext serverContext() {
		try {
			KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
			keys.init(this.keyStore, PASSWORD);
			return GrpcSslContexts.configure(SslContextBuilder.forServer(keys)).build();
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

	private SslContext clientContext() {
		try {
			TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
			trust.init(this.keyStore);
			return GrpcSslContexts.forClient().trustManager(trust).build();
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

}

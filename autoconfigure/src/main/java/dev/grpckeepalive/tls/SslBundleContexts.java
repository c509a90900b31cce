package dev.grpckeepalive.tls;

import java.util.List;

import javax.net.ssl.SSLException;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import org.jspecify.annotations.Nullable;

import dev.grpckeepalive.config.ConfigurationViolation;
import dev.grpckeepalive.config.GrpcKeepAliveProperties;
import dev.grpckeepalive.config.InvalidKeepAliveConfigurationException;

import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.ssl.SslOptions;

/**
 * Builds grpc-java's Netty TLS contexts from Spring Boot SSL bundles: key and trust
 * managers, protocols and ciphers as the bundle defines them, ALPN as gRPC needs it.
 */
public final class SslBundleContexts {

	private final @Nullable SslBundles bundles;

	public SslBundleContexts(@Nullable SslBundles bundles) {
		this.bundles = bundles;
	}

	/**
	 * The server's TLS context.
	 * @param property the property that names the bundle, for error reports
	 * @param bundleName the bundle name
	 * @param clientAuth whether to ask for client certificates
	 * @return the context
	 */
	public SslContext forServer(String property, String bundleName, GrpcKeepAliveProperties.ClientAuth clientAuth) {
		SslBundle bundle = bundle(property, bundleName);
		try {
			SslContextBuilder builder = SslContextBuilder.forServer(bundle.getManagers().getKeyManagerFactory());
			if (clientAuth != GrpcKeepAliveProperties.ClientAuth.NONE) {
				builder.trustManager(bundle.getManagers().getTrustManagerFactory())
					.clientAuth((clientAuth == GrpcKeepAliveProperties.ClientAuth.REQUIRE) ? ClientAuth.REQUIRE
							: ClientAuth.OPTIONAL);
			}
			return GrpcSslContexts.configure(applyOptions(builder, bundle.getOptions())).build();
		}
		catch (SSLException | RuntimeException ex) {
			throw invalid(property, bundleName, "cannot make a TLS server context: " + ex.getMessage(),
					"Give the bundle a key store with the server's private key and certificate.");
		}
	}

	/**
	 * A channel's TLS context: the bundle's trust store verifies the server; its key store,
	 * when it has one, is presented for mutual TLS.
	 */
	public SslContext forClient(String property, String bundleName) {
		SslBundle bundle = bundle(property, bundleName);
		try {
			SslContextBuilder builder = GrpcSslContexts.forClient()
				.trustManager(bundle.getManagers().getTrustManagerFactory());
			if (bundle.getStores().getKeyStore() != null) {
				builder.keyManager(bundle.getManagers().getKeyManagerFactory());
			}
			return applyOptions(builder, bundle.getOptions()).build();
		}
		catch (SSLException | RuntimeException ex) {
			throw invalid(property, bundleName, "cannot make a TLS client context: " + ex.getMessage(),
					"Give the bundle a trust store that holds the server's certificate or its issuer.");
		}
	}

	private static SslContextBuilder applyOptions(SslContextBuilder builder, SslOptions options) {
		if (options.getEnabledProtocols() != null) {
			builder.protocols(options.getEnabledProtocols());
		}
		if (options.getCiphers() != null) {
			builder.ciphers(List.of(options.getCiphers()));
		}
		return builder;
	}

	private SslBundle bundle(String property, String bundleName) {
		List<String> known = (this.bundles != null) ? this.bundles.getBundleNames() : List.of();
		try {
			if (this.bundles == null) {
				throw new NoSuchSslBundleException(bundleName, "no SSL bundles are configured");
			}
			return this.bundles.getBundle(bundleName);
		}
		catch (NoSuchSslBundleException ex) {
			throw invalid(property, bundleName,
					"names no SSL bundle; configured bundles: " + (known.isEmpty() ? "none" : String.join(", ", known)),
					"Define the bundle under spring.ssl.bundle.jks." + bundleName + " or spring.ssl.bundle.pem."
							+ bundleName + ", or use the name of a configured bundle.");
		}
	}

	private static InvalidKeepAliveConfigurationException invalid(String property, String value, String problem,
			String fix) {
		return new InvalidKeepAliveConfigurationException(
				List.of(new ConfigurationViolation(property, value, problem, fix)));
	}

}

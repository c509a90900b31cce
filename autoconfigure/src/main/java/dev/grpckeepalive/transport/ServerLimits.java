package dev.grpckeepalive.transport;

import java.util.concurrent.TimeUnit;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;

import dev.grpckeepalive.config.ServerLimitSettings;

/** Puts the abuse limits grpc-java enforces itself on a server builder. */
public final class ServerLimits {

	private ServerLimits() {
	}

	/**
	 * Applies {@code max-rst-frames} per {@code rst-frames-window},
	 * {@code max-concurrent-calls-per-connection} and, where asked, {@code max-inbound-metadata-size}.
	 * The connection cap and the frame-flood limits are the frame observer's transport's.
	 * @param builder the server builder
	 * @param limits the validated limits
	 * @param metadataSize whether to set the metadata limit: not on Spring Boot's server, which
	 * sets its own from {@code spring.grpc.server.max-inbound-metadata-size}, unless the
	 * application set ours
	 */
	public static void applyTo(NettyServerBuilder builder, ServerLimitSettings limits, boolean metadataSize) {
		if (limits.maxRstFrames().isEnabled()) {
			builder.maxRstFramesPerWindow(limits.maxRstFrames().effectiveInt(),
					Math.toIntExact(TimeUnit.NANOSECONDS.toSeconds(limits.rstFramesWindow().requestedNanos())));
		}
		if (limits.maxConcurrentCallsPerConnection().isEnabled()) {
			builder.maxConcurrentCallsPerConnection(limits.maxConcurrentCallsPerConnection().effectiveInt());
		}
		if (metadataSize) {
			// grpc-java always has a metadata limit (8 KiB by default); its largest value is as good as none
			builder.maxInboundMetadataSize(limits.maxInboundMetadataSize().isEnabled()
					? limits.maxInboundMetadataSize().effectiveInt() : Integer.MAX_VALUE);
		}
	}

}

package dev.grpckeepalive.config;

/**
 * The server's HTTP/2 abuse limits ({@code grpc.keepalive.server.limits.*}), validated, with
 * the values grpc-java will apply.
 *
 * @param maxRstFrames RST_STREAM frames per window, grpc-java's {@code maxRstFramesPerWindow}
 * @param rstFramesWindow the window of {@code maxRstFrames}, whole seconds
 * @param maxConcurrentCallsPerConnection grpc-java's {@code maxConcurrentCallsPerConnection}
 * (SETTINGS_MAX_CONCURRENT_STREAMS)
 * @param maxInboundMetadataSize grpc-java's {@code maxInboundMetadataSize}
 * (SETTINGS_MAX_HEADER_LIST_SIZE), in bytes
 */
public record ServerLimitSettings(LimitSetting maxRstFrames, DurationSetting rstFramesWindow,
		LimitSetting maxConcurrentCallsPerConnection, LimitSetting maxInboundMetadataSize) {

}

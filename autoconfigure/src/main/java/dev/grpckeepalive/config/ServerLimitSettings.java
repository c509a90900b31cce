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
 * @param maxConnections the cap on open connections, applied at accept by the starter
 * @param floodWindow the window of the frame-flood limits
 * @param maxUnsolicitedPingAcks PING ACKs for PINGs the server never sent, per flood window
 * @param maxSettingsFrames SETTINGS frames (not ACKs) per flood window
 * @param maxEmptyDataFrames empty DATA frames without END_STREAM per flood window
 * @param maxWindowUpdateFrames WINDOW_UPDATE frames per flood window beyond one per DATA frame sent
 */
public record ServerLimitSettings(LimitSetting maxRstFrames, DurationSetting rstFramesWindow,
		LimitSetting maxConcurrentCallsPerConnection, LimitSetting maxInboundMetadataSize,
		LimitSetting maxConnections, DurationSetting floodWindow, LimitSetting maxUnsolicitedPingAcks,
		LimitSetting maxSettingsFrames, LimitSetting maxEmptyDataFrames, LimitSetting maxWindowUpdateFrames) {

	/** Whether any of the limits the frame observer enforces is on. */
	public boolean anyFrameFloodLimit() {
		return this.maxUnsolicitedPingAcks.isEnabled() || this.maxSettingsFrames.isEnabled()
				|| this.maxEmptyDataFrames.isEnabled() || this.maxWindowUpdateFrames.isEnabled();
	}

}

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
 * @param floodWindow the window of the frame-flood limits that count per window
 * @param maxUnsolicitedPingAcks PING ACKs for PINGs the server never sent, per flood window
 * @param maxSettingsFrames SETTINGS frames (not ACKs) per flood window
 * @param maxConsecutiveEmptyFrames DATA, HEADERS and CONTINUATION frames in a row without payload
 * and without END_STREAM
 * @param maxWindowUpdateFrames WINDOW_UPDATE frames over a connection's life beyond those its
 * traffic earns
 * @param windowUpdateRatio WINDOW_UPDATE frames earned by each stream the client opens and each
 * DATA or SETTINGS frame the server sends; never off
 * @param maxPrematureResets resets per flood window of streams the server had not answered,
 * less than a millisecond after they opened, and streams it refused
 */
public record ServerLimitSettings(LimitSetting maxRstFrames, DurationSetting rstFramesWindow,
		LimitSetting maxConcurrentCallsPerConnection, LimitSetting maxInboundMetadataSize,
		LimitSetting maxConnections, DurationSetting floodWindow, LimitSetting maxUnsolicitedPingAcks,
		LimitSetting maxSettingsFrames, LimitSetting maxConsecutiveEmptyFrames, LimitSetting maxWindowUpdateFrames,
		LimitSetting windowUpdateRatio, LimitSetting maxPrematureResets) {

	/** Whether any of the limits the frame observer enforces is on. */
	public boolean anyFrameFloodLimit() {
		return this.maxUnsolicitedPingAcks.isEnabled() || this.maxSettingsFrames.isEnabled()
				|| this.maxConsecutiveEmptyFrames.isEnabled() || this.maxWindowUpdateFrames.isEnabled()
				|| this.maxPrematureResets.isEnabled();
	}

}

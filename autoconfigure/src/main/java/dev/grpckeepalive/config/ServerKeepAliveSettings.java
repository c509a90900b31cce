package dev.grpckeepalive.config;

/**
 * The server's keepalive and connection-management options, validated, with the values
 * grpc-java will apply.
 *
 * @param time KEEPALIVE_TIME
 * @param timeout KEEPALIVE_TIMEOUT
 * @param permitTime PERMIT_KEEPALIVE_TIME
 * @param permitWithoutCalls PERMIT_KEEPALIVE_WITHOUT_CALLS
 * @param maxConnectionIdle MAX_CONNECTION_IDLE
 * @param maxConnectionAge MAX_CONNECTION_AGE
 * @param maxConnectionAgeGrace MAX_CONNECTION_AGE_GRACE
 * @param limits the HTTP/2 abuse limits
 */
public record ServerKeepAliveSettings(DurationSetting time, DurationSetting timeout, DurationSetting permitTime,
		boolean permitWithoutCalls, DurationSetting maxConnectionIdle, DurationSetting maxConnectionAge,
		DurationSetting maxConnectionAgeGrace, ServerLimitSettings limits) {

}

/**
 * steadfast-mqtt/gateway: not built yet (see the project's open issues). The entry
 * point exists so that the package layout is stable.
 */
export {};

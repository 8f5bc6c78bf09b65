export { startAdminServer } from "./admin-server.js";
export type { AdminServer, AdminServerOptions } from "./admin-server.js";
export { parseListenAddress, formatHttpUrl } from "./listen-address.js";
export type { ListenAddress } from "./listen-address.js";

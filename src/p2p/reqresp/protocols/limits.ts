/** Most blocks one blocks-by-range request may ask for. */
export const MAX_BLOCKS_PER_REQUEST = 32;
/** Most txids one transactions request may ask for. */
export const MAX_TXIDS_PER_REQUEST = 256;
/** Txids per mempool_txids response chunk. */
export const TXIDS_PER_CHUNK = 1024;
/** Most txids one mempool_txids response carries. */
export const MAX_MEMPOOL_TXIDS = 16 * 1024;

//! Browser-side helpers: sessionStorage, and reading, checking and downscaling a picked image
//! before upload. Called only from event handlers and effects, which never run on the server.

use crate::domain::{
    megabytes, ImageKind, MAX_IMAGE_BYTES, MAX_PICKED_FILE_BYTES, TARGET_LONG_SIDE,
};
use wasm_bindgen::JsCast;

pub fn session_get(key: &str) -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok()??;
    storage.get_item(key).ok().flatten()
}

pub fn session_set(key: &str, value: &str) {
    if let Some(Ok(Some(storage))) = web_sys::window().map(|w| w.session_storage()) {
        let _ = storage.set_item(key, value);
    }
}

/// A screenshot ready to upload.
#[derive(Clone, Debug, PartialEq)]
pub struct PreparedImage {
    pub name: String,
    /// `data:image/...;base64,...`, also used for the preview.
    pub data_url: String,
    pub width: u32,
    pub height: u32,
    pub original_bytes: usize,
    pub downscaled: bool,
}

/// Checks the file (size, type by magic bytes) and downscales it when it is larger than the
/// server needs. Errors are messages for the person who picked the file.
pub async fn prepare_image(file: web_sys::File) -> Result<PreparedImage, String> {
    let size = file.size() as usize;
    if size > MAX_PICKED_FILE_BYTES {
        return Err(format!(
            "That file is {}; pick a screenshot under {}.",
            megabytes(size),
            megabytes(MAX_PICKED_FILE_BYTES)
        ));
    }
    let blob = gloo_file::Blob::from(web_sys::Blob::from(file.clone()));
    let bytes = gloo_file::futures::read_as_bytes(&blob)
        .await
        .map_err(|_| "The file could not be read.".to_string())?;
    let kind = ImageKind::sniff(&bytes).ok_or_else(|| ImageKind::rejection(&bytes))?;
    let image = load_image(&file).await?;
    let (width, height) = (image.natural_width(), image.natural_height());
    let long_side = width.max(height);
    let name = file.name();
    if long_side <= TARGET_LONG_SIDE && bytes.len() <= MAX_IMAGE_BYTES {
        // The browser's own encoder: keeps a base64 implementation out of the WASM bundle.
        let data_url = gloo_file::futures::read_as_data_url(&blob)
            .await
            .map_err(|_| "The file could not be read.".to_string())?;
        // The declared type may be wrong or empty; the bytes decide.
        let data_url = match data_url.split_once(";base64,") {
            Some((_, payload)) => format!("data:{};base64,{payload}", kind.mime()),
            None => return Err("The file could not be read.".into()),
        };
        return Ok(PreparedImage {
            name,
            data_url,
            width,
            height,
            original_bytes: bytes.len(),
            downscaled: false,
        });
    }
    let (w, h) = crate::domain::downscaled_size(width, height);
    let data_url = draw_scaled(&image, w, h)?;
    Ok(PreparedImage {
        name,
        data_url,
        width: w,
        height: h,
        original_bytes: bytes.len(),
        downscaled: true,
    })
}

async fn load_image(file: &web_sys::File) -> Result<web_sys::HtmlImageElement, String> {
    let unreadable = || "The image could not be read: the file is damaged.".to_string();
    let url = web_sys::Url::create_object_url_with_blob(file).map_err(|_| unreadable())?;
    let image = web_sys::HtmlImageElement::new().map_err(|_| unreadable())?;
    image.set_src(&url);
    let decoded = wasm_bindgen_futures::JsFuture::from(image.decode()).await;
    let _ = web_sys::Url::revoke_object_url(&url);
    decoded.map_err(|_| unreadable())?;
    Ok(image)
}

fn draw_scaled(image: &web_sys::HtmlImageElement, w: u32, h: u32) -> Result<String, String> {
    let failed = |_| "The browser could not resize the image.".to_string();
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(failed)?
        .dyn_into()
        .map_err(|_| "no canvas")?;
    canvas.set_width(w);
    canvas.set_height(h);
    let context: web_sys::CanvasRenderingContext2d = canvas
        .get_context("2d")
        .map_err(failed)?
        .ok_or("no 2d context")?
        .dyn_into()
        .map_err(|_| "no 2d context")?;
    context.set_image_smoothing_enabled(true);
    context
        .draw_image_with_html_image_element_and_dw_and_dh(image, 0.0, 0.0, w.into(), h.into())
        .map_err(failed)?;
    let png = canvas.to_data_url_with_type("image/png").map_err(failed)?;
    // A screenshot at this size is well under the limit as PNG; JPEG is the fallback for photos.
    if png.len() * 3 / 4 <= MAX_IMAGE_BYTES {
        Ok(png)
    } else {
        canvas
            .to_data_url_with_type_and_encoder_options("image/jpeg", &0.9.into())
            .map_err(failed)
    }
}

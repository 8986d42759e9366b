import { Route, Routes } from "react-router";
import { ProductList } from "./ProductList";
import { ProductDetail } from "./ProductDetail";
import { AddProduct } from "./AddProduct";
import { OrderList } from "./OrderList";
import { OrderDetail } from "./OrderDetail";
import { TakeOrder } from "./TakeOrder";
import "./catalog.css";

/**
 * /catalog (products), /catalog/products/new, /catalog/products/:productId,
 * /catalog/orders, /catalog/orders/new, /catalog/orders/:orderId.
 */
export default function CatalogPage() {
  return (
    <Routes>
      <Route index element={<ProductList />} />
      <Route path="products/new" element={<AddProduct />} />
      <Route path="products/:productId" element={<ProductDetail />} />
      <Route path="orders" element={<OrderList />} />
      <Route path="orders/new" element={<TakeOrder />} />
      <Route path="orders/:orderId" element={<OrderDetail />} />
    </Routes>
  );
}
